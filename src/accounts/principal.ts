import type { TouchedKeys } from '../audit/audit-context';
import type { Policy } from './policy';

/** Who is calling and for what, established by a face's authentication. */
export interface Principal {
  /** The account that owns every resource the call may touch. */
  uin: string;
  /** The identity that made the call: the account itself, or one of its sub-users. */
  callerUin: string;
  region: string;
  secretId: string;
  /** A sub-user's policy; absent for the account's root credentials. */
  policy?: Policy;
  /** The action being performed, as policies name it (e.g. "Encrypt"). */
  action: string;
  /** Where the core notes the keys (and versions) the call uses, for the audit trail. */
  touched?: TouchedKeys;
}

/** Who a credential authenticates, before a face adds the region and action of the call. */
export type Identity = Pick<Principal, 'uin' | 'callerUin' | 'secretId' | 'policy'>;

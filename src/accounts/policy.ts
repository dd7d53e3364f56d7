import { UnauthorizedError } from '../common/domain-errors';
import { Principal } from './principal';

/**
 * The core's access policies: statements over its operation names (e.g. "Encrypt") and
 * structured resources. A face's policy language (see PolicyLanguage) turns stored texts into
 * these. In every pattern, `*` matches any run of characters. A matching deny wins over any
 * allow; without a matching allow the call is refused.
 */
export class PolicyError extends Error {}

/** One key, or (keyId and creator absent) the account as a whole, for account-wide operations. */
export interface Resource {
  region: string;
  account: string;
  creator?: string;
  keyId?: string;
}

/** Globs over a key's fields; `accountWide` patterns also match the account-wide resource. */
export interface ResourcePattern {
  region: string;
  account: string;
  creator: string;
  keyId: string;
  /** Whether the account-wide resource matches as well as keys. */
  accountWide: boolean;
}

export interface PolicyStatement {
  effect: 'allow' | 'deny';
  /** Globs over the core's operation names. */
  operations: readonly string[];
  resources: readonly ResourcePattern[];
}

/** Matches everything, the account-wide resource included. */
export const ANY_RESOURCE: ResourcePattern = { region: '*', account: '*', creator: '*', keyId: '*', accountWide: true };

interface Compiled {
  effect: 'allow' | 'deny';
  operations: RegExp[];
  resources: Array<{ region: RegExp; account: RegExp; creator: RegExp; keyId: RegExp; accountWide: boolean }>;
  /** The creators the patterns can name, a `*` read as any digit run. */
  creators: string[];
}

export const glob = (pattern: string): RegExp => new RegExp('^' + pattern.split('*').map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*') + '$');

export class Policy {
  private readonly statements: Compiled[];

  constructor(statements: readonly PolicyStatement[]) {
    this.statements = statements.map((s) => ({
      effect: s.effect,
      operations: s.operations.map(glob),
      resources: s.resources.map((r) => ({ region: glob(r.region), account: glob(r.account), creator: glob(r.creator), keyId: glob(r.keyId), accountWide: r.accountWide })),
      creators: s.resources.map((r) => r.creator.replaceAll('*', '0')),
    }));
  }

  /**
   * Whether the operation could be allowed on a key with this id, whoever created it: tried
   * with every creator the patterns name and with one that only a wildcard matches.
   */
  mayAllowKey(operation: string, region: string, account: string, keyId: string): boolean {
    const creators = new Set(['0', account, ...this.statements.flatMap((s) => s.creators)]);
    return [...creators].some((creator) => this.allows(operation, keyResource(region, account, creator, keyId)));
  }

  allows(operation: string, resource: Resource): boolean {
    const isKey = resource.keyId !== undefined;
    const hits = (r: Compiled['resources'][number]) =>
      r.region.test(resource.region) && r.account.test(resource.account) && (isKey ? r.creator.test(resource.creator ?? '') && r.keyId.test(resource.keyId!) : r.accountWide);
    const matches = (s: Compiled) => s.operations.some((o) => o.test(operation)) && s.resources.some(hits);
    if (this.statements.some((s) => s.effect === 'deny' && matches(s))) return false;
    return this.statements.some((s) => s.effect === 'allow' && matches(s));
  }
}

/** The resource of one key, and of "any key of the account" for account-wide operations. */
export const keyResource = (region: string, account: string, creator: string, keyId: string): Resource => ({ region, account, creator, keyId });
export const accountResource = (region: string, account: string): Resource => ({ region, account });

/**
 * Root credentials have every right on their own account (isolation is enforced by lookups);
 * sub-users only what their policy allows. `action` defaults to the call's own; a call that
 * also performs another operation on a resource (ReEncrypt decrypts and encrypts) names it. The
 * message names neither the resource nor its creator: a refused caller learns nothing about the key.
 */
export function authorize(p: Principal, resource: Resource, action = p.action): void {
  if (p.policy && !p.policy.allows(action, resource)) throw refused(action);
}

/**
 * For a key id that names no key of the caller's: a sub-user whose policy could not allow the
 * operation on that id whoever created it gets the refusal an existing key would give, so it
 * cannot tell which ids exist.
 */
export function authorizeUnknownKey(p: Principal, keyId: string, action = p.action): void {
  if (p.policy && !p.policy.mayAllowKey(action, p.region, p.uin, keyId)) throw refused(action);
}

const refused = (action: string): UnauthorizedError => new UnauthorizedError(`the caller is not authorized to ${action} on this resource`);

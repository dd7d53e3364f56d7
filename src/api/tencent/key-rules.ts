import { KeyStandard } from '../../keys/key.entity';
import { WrappingAlgorithm } from '../../hsm/key-store';
import { TencentError } from './tencent-error';

/**
 * The Tencent API's own names, numbers and ranges for keys, mapped to the core's: the core
 * enforces only what holds for every face, and these checks run before it is called.
 */

/** CreateKey's Type: 1 material made by KMS, 2 EXTERNAL. Another number reaches the core as is, which refuses it in its place. */
export const originOfType = (type: number | undefined): string | undefined => (type === undefined ? undefined : type === 1 ? 'KMS' : type === 2 ? 'EXTERNAL' : `Type ${type}`);
export const TYPE_MESSAGE = 'Type must be 1 (KMS) or 2 (EXTERNAL)';

/** KeyMetadata.Type: the standard the key follows. */
export const typeOfStandard = (standard: KeyStandard): number => (standard === 'GM' ? 4 : 2);

/** 1-60 of letters, digits, - and _, starting with a letter or digit; `kms-` is reserved for cloud products. */
export function checkTencentAlias(alias: string): void {
  if (!/^[A-Za-z0-9][A-Za-z0-9_-]{0,59}$/.test(alias)) throw new TencentError('InvalidParameterValue.InvalidAlias', 'Alias must be 1-60 letters, digits, - or _, starting with a letter or digit');
  if (alias.toLowerCase().startsWith('kms-')) throw new TencentError('InvalidParameterValue.InvalidAlias', 'aliases starting with kms- are reserved for cloud products');
}

/** ScheduleKeyDeletion's PendingWindowInDays: 7..30 here, narrower than the core's bound. */
export function checkPendingWindow(days: number): void {
  if (!Number.isInteger(days) || days < 7 || days > 30) throw new TencentError('InvalidParameter.InvalidPendingWindowInDays', 'PendingWindowInDays must be 7..30');
}

/** GetParametersForImport's WrappingAlgorithm names, in the API's order. */
const WRAPPING_NAMES: Record<string, WrappingAlgorithm> = {
  RSAES_PKCS1_V1_5: 'rsa-pkcs1-v1_5',
  RSAES_OAEP_SHA_1: 'rsa-oaep-sha1',
  RSAES_OAEP_SHA_256: 'rsa-oaep-sha256',
};
export function wrappingAlgorithmOf(name: string): WrappingAlgorithm {
  if (!Object.hasOwn(WRAPPING_NAMES, name)) throw new TencentError('InvalidParameter', `WrappingAlgorithm must be one of ${Object.keys(WRAPPING_NAMES).join(', ')}`);
  return WRAPPING_NAMES[name];
}
export const wrappingAlgorithmName = (algorithm: WrappingAlgorithm): string => Object.keys(WRAPPING_NAMES).find((n) => WRAPPING_NAMES[n] === algorithm) ?? algorithm;

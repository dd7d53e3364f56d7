import { CmkKindAlgorithm, KeyOrigin, KeyUsage, Tag } from '../../keys/key-params';
import { KeyStandard } from '../../keys/key.entity';
import { WrappingAlgorithm } from '../../hsm/key-store';
import { TencentError } from './tencent-error';

/**
 * The Tencent API's own names, numbers and ranges for keys, mapped to the core's: the core
 * enforces only what holds for every face, and these checks run before it is called.
 */

/** KeyUsage names, in the order the API lists them, and the core's usage each names. */
const USAGES: Readonly<Record<string, KeyUsage>> = {
  ENCRYPT_DECRYPT: 'aes:encrypt-decrypt',
  ASYMMETRIC_DECRYPT_RSA_2048: 'rsa-2048:decrypt',
  ASYMMETRIC_DECRYPT_SM2: 'sm2:decrypt',
  ASYMMETRIC_SIGN_VERIFY_SM2: 'sm2:sign',
  ASYMMETRIC_SIGN_VERIFY_RSA_2048: 'rsa-2048:sign',
  ASYMMETRIC_SIGN_VERIFY_ECC: 'ec-p256:sign',
  GENERATE_VERIFY_MAC: 'hmac:mac',
};
export const USAGE_NAMES = Object.keys(USAGES);
/** A KeyUsage as the core names it; an unknown name reaches the core in a form it never takes, which refuses it in its place. */
export const usageOf = (name: string | undefined): string | undefined => (name === undefined ? undefined : Object.hasOwn(USAGES, name) ? USAGES[name] : `KeyUsage ${name}`);
/** A KeyUsage filter (ListKeyDetail): the core's usage, or undefined for ALL. */
export function usageFilterOf(name: string): KeyUsage | undefined {
  if (name === 'ALL') return undefined;
  if (!Object.hasOwn(USAGES, name)) throw new TencentError('InvalidParameter', `KeyUsage must be ALL or one of ${USAGE_NAMES.join(', ')}`);
  return USAGES[name];
}
/** The core's usage by its KeyUsage name (a usage the API has no name for shows as the core's). */
export const usageName = (usage: string): string => USAGE_NAMES.find((n) => USAGES[n] === usage) ?? usage;
export const USAGE_MESSAGE = `KeyUsage must be one of ${USAGE_NAMES.join(', ')}`;

/** CreateKey's Type: 1 material made by KMS, 2 EXTERNAL. Another number reaches the core in a form it never takes, which refuses it in its place. */
export const originOfType = (type: number | undefined): string | undefined => (type === undefined ? undefined : type === 1 ? 'generated' : type === 2 ? 'imported' : `Type ${type}`);
export const TYPE_MESSAGE = 'Type must be 1 (KMS) or 2 (EXTERNAL)';
/** Origin, as KeyMetadata shows it and ListKeyDetail filters by it. */
const ORIGINS: Readonly<Record<string, KeyOrigin>> = { KMS: 'generated', EXTERNAL: 'imported' };
export const originName = (origin: string): string => Object.keys(ORIGINS).find((n) => ORIGINS[n] === origin) ?? origin;
/** An Origin filter: the core's origin, or undefined for ALL (or empty). */
export function originFilterOf(name: string): KeyOrigin | undefined {
  if (name === 'ALL' || name === '') return undefined;
  if (!Object.hasOwn(ORIGINS, name)) throw new TencentError('InvalidParameter', 'Origin must be KMS, EXTERNAL or ALL (case-sensitive)');
  return ORIGINS[name];
}

/** ListAlgorithms' Algorithm names of the core's CMK algorithms. */
const CMK_ALGORITHM_NAMES: Readonly<Record<CmkKindAlgorithm, string>> = { 'aes-256': 'AES_256', 'rsa-2048': 'RSA_2048', 'ec-p256': 'ECC_P256', sm2: 'SM2' };
export const cmkAlgorithmName = (algorithm: CmkKindAlgorithm): string => CMK_ALGORITHM_NAMES[algorithm];

/** KeyMetadata.Type: the standard the key follows. */
export const typeOfStandard = (standard: KeyStandard): number => (standard === 'GM' ? 4 : 2);

/** 1-60 of letters, digits, - and _, starting with a letter or digit; `kms-` is reserved for cloud products. */
export function checkTencentAlias(alias: string): void {
  if (!/^[A-Za-z0-9][A-Za-z0-9_-]{0,59}$/.test(alias)) throw new TencentError('InvalidParameterValue.InvalidAlias', 'Alias must be 1-60 letters, digits, - or _, starting with a letter or digit');
  if (alias.toLowerCase().startsWith('kms-')) throw new TencentError('InvalidParameterValue.InvalidAlias', 'aliases starting with kms- are reserved for cloud products');
}

/** CreateKey's Tags: a TagValue may not be empty here (the core allows it). */
export function checkTencentTags(tags: readonly Tag[]): void {
  if (tags.some((t) => !t.value)) throw new TencentError('InvalidParameterValue.TagsNotExisted', 'every tag needs a non-empty TagKey and TagValue');
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

/** GetParametersForImport's WrappingKeySpec: RSA_2048, the core's rsa-2048. */
export function wrappingKeySpecOf(name: string): string {
  if (name !== 'RSA_2048') throw new TencentError('InvalidParameter', 'WrappingKeySpec must be RSA_2048');
  return 'rsa-2048';
}

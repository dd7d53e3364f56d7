import { InvalidParameterError } from '../common/domain-errors';

export const KEY_USAGES = [
  'ENCRYPT_DECRYPT',
  'ASYMMETRIC_DECRYPT_RSA_2048',
  'ASYMMETRIC_DECRYPT_SM2',
  'ASYMMETRIC_SIGN_VERIFY_SM2',
  'ASYMMETRIC_SIGN_VERIFY_RSA_2048',
  'ASYMMETRIC_SIGN_VERIFY_ECC',
] as const;
export type KeyUsage = (typeof KEY_USAGES)[number];

/** The usages CreateKey makes here, with the algorithm of their material. The others are documented but not implemented. */
export const SUPPORTED_CMK_KINDS: ReadonlyArray<{ keyUsage: KeyUsage; algorithm: 'AES_256' }> = [{ keyUsage: 'ENCRYPT_DECRYPT', algorithm: 'AES_256' }];

export interface Tag {
  TagKey: string;
  TagValue: string;
}

const KEY_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export function checkKeyId(keyId: string, field = 'KeyId'): void {
  if (!KEY_ID.test(keyId)) throw new InvalidParameterError(field, `${field} is not a valid CMK id`, 'malformedKeyId');
}

/** Where a CMK's material comes from: made in the token, or imported by its owner. Stored as is. */
export const KEY_ORIGINS = ['KMS', 'EXTERNAL'] as const;
export type KeyOrigin = (typeof KEY_ORIGINS)[number];

/** The longest alias the store keeps (the column's width). */
export const MAX_ALIAS_CHARS = 60;

/** What holds for every face: a non-empty alias that fits the store. Each face checks its own syntax first. */
export function checkAlias(alias: string): void {
  if (alias.length < 1 || alias.length > MAX_ALIAS_CHARS) throw new InvalidParameterError('Alias', `an alias is 1 to ${MAX_ALIAS_CHARS} characters`, 'badAlias');
}

export function checkDescription(description: string): void {
  if (Buffer.byteLength(description, 'utf8') > 1024) throw new InvalidParameterError('Description', 'Description is longer than 1024 bytes');
}

export const MAX_TAGS = 50;
/** Keys one batch call (enable, disable, describe) may name. */
export const MAX_BATCH_KEYS = 100;
export function checkTags(tags: Tag[]): void {
  if (tags.length > MAX_TAGS) throw new InvalidParameterError('Tags', `at most ${MAX_TAGS} tags`);
  const seen = new Set<string>();
  for (const t of tags) {
    if (!t.TagKey || !t.TagValue) throw new InvalidParameterError('Tags', 'every tag needs a non-empty TagKey and TagValue', 'emptyTag');
    if (t.TagKey.length > 127 || t.TagValue.length > 255) throw new InvalidParameterError('Tags', 'TagKey is at most 127 and TagValue at most 255 characters');
    if (seen.has(t.TagKey)) throw new InvalidParameterError('Tags', `tag key "${t.TagKey}" appears twice`, 'repeatedTagKey');
    seen.add(t.TagKey);
  }
}

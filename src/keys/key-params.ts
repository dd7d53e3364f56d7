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
  if (!KEY_ID.test(keyId)) throw new InvalidParameterError(field, `${field} is not a valid CMK id`, 'keyId');
}

/** 1-60 of letters, digits, - and _, starting with a letter or digit; `kms-` is reserved for cloud products. */
export function checkAlias(alias: string): void {
  if (!/^[A-Za-z0-9][A-Za-z0-9_-]{0,59}$/.test(alias)) throw new InvalidParameterError('Alias', 'Alias must be 1-60 letters, digits, - or _, starting with a letter or digit', 'alias');
  if (alias.toLowerCase().startsWith('kms-')) throw new InvalidParameterError('Alias', 'aliases starting with kms- are reserved for cloud products', 'alias');
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
    if (!t.TagKey || !t.TagValue) throw new InvalidParameterError('Tags', 'every tag needs a non-empty TagKey and TagValue', 'tagsNotExisted');
    if (t.TagKey.length > 127 || t.TagValue.length > 255) throw new InvalidParameterError('Tags', 'TagKey is at most 127 and TagValue at most 255 characters');
    if (seen.has(t.TagKey)) throw new InvalidParameterError('Tags', `tag key "${t.TagKey}" appears twice`, 'tagKeysDuplicated');
    seen.add(t.TagKey);
  }
}

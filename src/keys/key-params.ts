import { InvalidParameterError } from '../common/domain-errors';
import { KeyStore, PAIR_SPECS, PairPurpose, PairSpec, SIGNING_SPEC, SecretKind } from '../hsm/key-store';

/**
 * What a key is for, in the core's words: `<material family>:<purpose>`. Stored as is
 * (cmks.key_usage); each face maps its own names to and from these in one place.
 */
export const KEY_USAGES = ['aes:encrypt-decrypt', 'hmac:mac', 'rsa-2048:decrypt', 'rsa-2048:sign', 'ec-p256:sign', 'sm2:decrypt', 'sm2:sign'] as const;
export type KeyUsage = (typeof KEY_USAGES)[number];
export const DEFAULT_KEY_USAGE: KeyUsage = 'aes:encrypt-decrypt';
export const isKeyUsage = (s: string): s is KeyUsage => (KEY_USAGES as readonly string[]).includes(s);

/**
 * What a key of each usage is: its material (`spec`) and what it does (`purpose`). A pair's
 * private key can do only its purpose, in the token as in the API.
 */
export type KeyFamily = 'aes' | 'hmac' | PairSpec | 'sm2';
export type KeyPurpose = 'encrypt-decrypt' | 'mac' | PairPurpose;
export const KEY_KINDS: Readonly<Record<KeyUsage, { spec: KeyFamily; purpose: KeyPurpose }>> = {
  'aes:encrypt-decrypt': { spec: 'aes', purpose: 'encrypt-decrypt' },
  'hmac:mac': { spec: 'hmac', purpose: 'mac' },
  'rsa-2048:decrypt': { spec: 'rsa-2048', purpose: 'decrypt' },
  'rsa-2048:sign': { spec: 'rsa-2048', purpose: 'sign' },
  'ec-p256:sign': { spec: 'ec-p256', purpose: 'sign' },
  'sm2:decrypt': { spec: 'sm2', purpose: 'decrypt' },
  'sm2:sign': { spec: 'sm2', purpose: 'sign' },
};
export const keyKind = (usage: string): { spec: KeyFamily; purpose: KeyPurpose } => KEY_KINDS[isKeyUsage(usage) ? usage : DEFAULT_KEY_USAGE];
export const isPairSpec = (spec: KeyFamily): spec is PairSpec => (PAIR_SPECS as readonly string[]).includes(spec);
/** Any key pair: the token's standard ones, or SM2 through a profile's vendor mechanisms. */
export const isAsymmetricSpec = (spec: KeyFamily): spec is PairSpec | 'sm2' => spec === 'sm2' || isPairSpec(spec);
export const isPairPurpose = (purpose: KeyPurpose): purpose is PairPurpose => purpose === 'sign' || purpose === 'decrypt';

/**
 * Whether the token really performs at least one algorithm of a key pair of this spec and
 * purpose: measured for the standard pairs; for SM2, declared by the profile and listed by the
 * token (it cannot be measured without knowing the vendor's conventions).
 */
export async function pairKindAvailable(store: KeyStore, spec: PairSpec | 'sm2', purpose: PairPurpose): Promise<boolean> {
  if (spec === 'sm2') return store.sm2Purposes().includes(purpose);
  if (purpose === 'decrypt') return spec === 'rsa-2048' && (await store.decryptionAlgorithms()).length > 0;
  return (await store.signingAlgorithms()).some((a) => SIGNING_SPEC[a] === spec);
}

/** The algorithm of a CMK's material, as the algorithm catalog names it. */
export type CmkKindAlgorithm = 'aes-256' | 'rsa-2048' | 'ec-p256' | 'sm2';
/** The usages a key can be made for by naming its usage alone (no spec), with the algorithm of their material. The others are made through a spec (HMAC) or not at all. */
export const SUPPORTED_CMK_KINDS: ReadonlyArray<{ keyUsage: KeyUsage; algorithm: CmkKindAlgorithm }> = [
  { keyUsage: 'aes:encrypt-decrypt', algorithm: 'aes-256' },
  { keyUsage: 'rsa-2048:decrypt', algorithm: 'rsa-2048' },
  { keyUsage: 'rsa-2048:sign', algorithm: 'rsa-2048' },
  { keyUsage: 'ec-p256:sign', algorithm: 'ec-p256' },
  // Only on a token whose profile declares SM2 mechanisms (pairKindAvailable).
  { keyUsage: 'sm2:decrypt', algorithm: 'sm2' },
  { keyUsage: 'sm2:sign', algorithm: 'sm2' },
];

/**
 * The material a secret key holds. Keys made without a spec are aes-256 (what every face's
 * CreateKey makes); a face that names a spec gets that material, and the spec fixes the usage.
 * A key pair's stored spec is its pair's (KeyFamily), which no caller names.
 */
export const KEY_SPECS = ['aes-128', 'aes-192', 'aes-256', 'hmac-256'] as const;
export type KeySpec = (typeof KEY_SPECS)[number];
export const DEFAULT_KEY_SPEC: KeySpec = 'aes-256';

const SPEC_KINDS: Record<KeySpec, { usage: KeyUsage; kind: SecretKind }> = {
  'aes-128': { usage: 'aes:encrypt-decrypt', kind: { family: 'aes', bytes: 16 } },
  'aes-192': { usage: 'aes:encrypt-decrypt', kind: { family: 'aes', bytes: 24 } },
  'aes-256': { usage: 'aes:encrypt-decrypt', kind: { family: 'aes', bytes: 32 } },
  'hmac-256': { usage: 'hmac:mac', kind: { family: 'hmac-sha256', bytes: 32 } },
};

export const isKeySpec = (s: string): s is KeySpec => (KEY_SPECS as readonly string[]).includes(s);
export const usageOfSpec = (spec: KeySpec): KeyUsage => SPEC_KINDS[spec].usage;
/** The token material of a stored secret key's spec. */
export const secretKindOf = (spec: string): SecretKind => SPEC_KINDS[isKeySpec(spec) ? spec : DEFAULT_KEY_SPEC].kind;
/** What the cmks.key_spec column holds for a key of this usage and (secret) spec. */
export const storedSpecOf = (usage: KeyUsage, spec: KeySpec): string => {
  const family = KEY_KINDS[usage].spec;
  return isAsymmetricSpec(family) ? family : spec;
};

/** A key's tag in the core's words; each face maps its own field names. */
export interface Tag {
  key: string;
  value: string;
}

const KEY_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export function checkKeyId(keyId: string, field = 'keyId'): void {
  if (!KEY_ID.test(keyId)) throw new InvalidParameterError(field, (n) => `${n(field)} is not a valid CMK id`, 'malformedKeyId');
}

/** Where a CMK's material comes from: generated in the token, or imported by its owner. Stored as is; each face maps its names. */
export const KEY_ORIGINS = ['generated', 'imported'] as const;
export type KeyOrigin = (typeof KEY_ORIGINS)[number];

/** Aliases of default keys are `<service>/default`; faces keep the suffix from their users. */
export const DEFAULT_KEY_ALIAS_SUFFIX = '/default';

/** The longest alias the store keeps (the column's width). */
export const MAX_ALIAS_CHARS = 60;

/**
 * Text the service stores or searches for may not hold U+0000: PostgreSQL cannot take it in
 * text (the insert or query fails), and the answer must not depend on the database.
 */
export function checkStorableText(field: string, value: string): void {
  if (value.includes('\u0000')) throw new InvalidParameterError(field, (n) => `${n(field)} must not contain the character U+0000`);
}

/** What holds for every face: a non-empty alias that fits the store. Each face checks its own syntax first. */
export function checkAlias(alias: string): void {
  if (alias.length < 1 || alias.length > MAX_ALIAS_CHARS) throw new InvalidParameterError('alias', `an alias is 1 to ${MAX_ALIAS_CHARS} characters`, 'badAlias');
  checkStorableText('alias', alias);
}

export function checkDescription(description: string): void {
  if (Buffer.byteLength(description, 'utf8') > 1024) throw new InvalidParameterError('description', (n) => `${n('description')} is longer than 1024 bytes`);
  checkStorableText('description', description);
}

/** Tags one key may carry, whichever face set them; a face may allow fewer. */
export const MAX_TAGS = 50;
export const MAX_TAG_KEY_CHARS = 127;
export const MAX_TAG_VALUE_CHARS = 255;
/** Keys one batch call (enable, disable, describe) may name. */
export const MAX_BATCH_KEYS = 100;

/** What holds for every face: at most MAX_TAGS, non-empty keys that fit the store, each once. A value may be empty. */
export function checkTags(tags: Tag[]): void {
  if (tags.length > MAX_TAGS) throw new InvalidParameterError('Tags', `at most ${MAX_TAGS} tags`);
  const seen = new Set<string>();
  for (const t of tags) {
    checkTagKey(t.key);
    checkTagValue(t.value);
    if (seen.has(t.key)) throw new InvalidParameterError('Tags', `tag key "${t.key}" appears twice`, 'repeatedTagKey');
    seen.add(t.key);
  }
}

export function checkTagKey(key: string): void {
  if (!key) throw new InvalidParameterError('Tags', 'every tag needs a non-empty key', 'emptyTag');
  if (key.length > MAX_TAG_KEY_CHARS) throw new InvalidParameterError('Tags', `a tag key is at most ${MAX_TAG_KEY_CHARS} characters`);
  checkStorableText('Tags', key);
}

/** The text of a key search: a tag filter's key and values, and a match in aliases (`field`). */
export function checkSearchText(field: string, tags: ReadonlyArray<{ key: string; values?: string[] }>, match: string | undefined): void {
  for (const t of tags) for (const text of [t.key, ...(t.values ?? [])]) checkStorableText('tags', text);
  if (match !== undefined) checkStorableText(field, match);
}

export function checkTagValue(value: string): void {
  if (value.length > MAX_TAG_VALUE_CHARS) throw new InvalidParameterError('Tags', `a tag value is at most ${MAX_TAG_VALUE_CHARS} characters`);
  checkStorableText('Tags', value);
}

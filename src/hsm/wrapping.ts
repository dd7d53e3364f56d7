import * as pkcs11 from 'pkcs11js';
import { aesKeyTemplate } from './aes';
import { hmacKeyTemplate } from './hmac';
import { HsmError, ckrOf } from './hsm-errors';
import { privateKeyTemplate } from './key-pair';
import { NestedAttribute } from './nested-template';
import { findHandles, readEach } from './object-search';
import { Handle, Pkcs11 } from './token';

/**
 * Wrapped storage, the token's part: key-encryption keys (KEKs), material made to be wrapped
 * by them only, and the blobs that hold wrapped material. Measured on SoftHSM 2.6.1:
 * CKM_AES_KEY_WRAP_PAD wraps AES, generic-secret, RSA and EC private keys; only the security
 * officer can set CKA_TRUSTED, and only when the object is made, and only on a public object
 * (the SO cannot make private ones). The SO makes it a public *session* object that can
 * neither wrap nor unwrap; it outlives the SO's logout, and the user copies it into a private
 * token object that can (C_CopyObject may change CKA_TOKEN, CKA_PRIVATE, CKA_WRAP and
 * CKA_UNWRAP of a modifiable object, and keeps CKA_TRUSTED and CKA_UNWRAP_TEMPLATE): no public
 * KEK ever reaches the token's storage, and a crash takes the session object with it.
 * C_WrapKey of a key with CKA_WRAP_WITH_TRUSTED under an untrusted key answers
 * CKR_KEY_NOT_WRAPPABLE; C_UnwrapKey under a KEK with CKA_UNWRAP_TEMPLATE answers
 * CKR_TEMPLATE_INCONSISTENT unless the caller's template holds each of its attributes, equal.
 */

export const WRAP_MECHANISM = pkcs11.CKM_AES_KEY_WRAP_PAD;
const KEK_PREFIX = 'kms-kek:';
const PENDING_PREFIX = 'kms-kek-pending:';

/** A KEK's CKA_ID (also its label): one generation of a region's KEK. */
export const kekId = (region: string, generation: number): string => `${KEK_PREFIX}${region}:${generation}`;
export const pendingKekId = (region: string, generation: number): string => `${PENDING_PREFIX}${region}:${generation}`;

export function parseKekId(id: string): { region: string; generation: number } | null {
  if (!id.startsWith(KEK_PREFIX)) return null;
  const rest = id.slice(KEK_PREFIX.length);
  const at = rest.lastIndexOf(':');
  const generation = Number(rest.slice(at + 1));
  if (at <= 0 || !Number.isSafeInteger(generation) || generation < 1) return null;
  return { region: rest.slice(0, at), generation };
}

/**
 * What every key a KEK unwraps must be: sensitive (its value never readable), wrappable only
 * by a trusted key (a KEK), never derived from. Neither attribute can be turned off later.
 */
export const KEK_UNWRAP_TEMPLATE: NestedAttribute[] = [
  { type: pkcs11.CKA_SENSITIVE, value: true },
  { type: pkcs11.CKA_WRAP_WITH_TRUSTED, value: true },
  { type: pkcs11.CKA_DERIVE, value: false },
];

/**
 * A KEK as the SO makes it: AES-256, trusted, never extractable, a public session object
 * (the SO cannot make private ones) that can do nothing, modifiable so that the user's copy
 * (`kekCopyTemplate`) can make it private, persistent and able to wrap and unwrap.
 */
export function kekTemplate(pendingId: string): NestedAttribute[] {
  return [
    { type: pkcs11.CKA_CLASS, value: pkcs11.CKO_SECRET_KEY },
    { type: pkcs11.CKA_KEY_TYPE, value: pkcs11.CKK_AES },
    { type: pkcs11.CKA_VALUE_LEN, value: 32 },
    { type: pkcs11.CKA_ID, value: Buffer.from(pendingId) },
    { type: pkcs11.CKA_LABEL, value: pendingId },
    { type: pkcs11.CKA_TOKEN, value: false },
    { type: pkcs11.CKA_PRIVATE, value: false },
    { type: pkcs11.CKA_TRUSTED, value: true },
    { type: pkcs11.CKA_SENSITIVE, value: true },
    { type: pkcs11.CKA_EXTRACTABLE, value: false },
    { type: pkcs11.CKA_WRAP, value: false },
    { type: pkcs11.CKA_UNWRAP, value: false },
    { type: pkcs11.CKA_ENCRYPT, value: false },
    { type: pkcs11.CKA_DECRYPT, value: false },
    { type: pkcs11.CKA_SIGN, value: false },
    { type: pkcs11.CKA_VERIFY, value: false },
    { type: pkcs11.CKA_DERIVE, value: false },
    { type: pkcs11.CKA_UNWRAP_TEMPLATE, value: KEK_UNWRAP_TEMPLATE },
  ];
}

export const kekCopyTemplate = (id: string): pkcs11.Template => [
  { type: pkcs11.CKA_TOKEN, value: true },
  { type: pkcs11.CKA_PRIVATE, value: true },
  { type: pkcs11.CKA_ID, value: Buffer.from(id) },
  { type: pkcs11.CKA_LABEL, value: id },
  { type: pkcs11.CKA_WRAP, value: true },
  { type: pkcs11.CKA_UNWRAP, value: true },
  { type: pkcs11.CKA_MODIFIABLE, value: false },
];

/** The KEKs the token holds (private, trusted, AES), by CKA_ID. */
export function listKeks(m: Pkcs11, s: Handle): Array<{ id: string; handle: Handle }> {
  return findAll(m, s, [
    { type: pkcs11.CKA_CLASS, value: pkcs11.CKO_SECRET_KEY },
    { type: pkcs11.CKA_KEY_TYPE, value: pkcs11.CKK_AES },
    { type: pkcs11.CKA_TRUSTED, value: true },
  ]).filter((k) => parseKekId(k.id) !== null);
}

/**
 * Public KEKs stored in the token: earlier releases had the SO make them as token objects,
 * able to unwrap, and a crash before the private copy left one that a session without a login
 * could use. Destroyed at every set-up and rotation; `kms token audit` calls one critical.
 */
export function listPendingKeks(m: Pkcs11, s: Handle): Array<{ id: string; handle: Handle }> {
  return findAll(m, s, [
    { type: pkcs11.CKA_CLASS, value: pkcs11.CKO_SECRET_KEY },
    { type: pkcs11.CKA_TOKEN, value: true },
    { type: pkcs11.CKA_PRIVATE, value: false },
  ]).filter((k) => isPendingKekId(k.id));
}

export const isPendingKekId = (id: string): boolean => id.startsWith(PENDING_PREFIX);

/** The objects that match `template`, with their CKA_ID. */
export function findAll(m: Pkcs11, s: Handle, template: pkcs11.Template): Array<{ id: string; handle: Handle }> {
  return readEach(findHandles(m, s, template), (handle) => ({ id: (m.C_GetAttributeValue(s, handle, [{ type: pkcs11.CKA_ID }])[0].value as Buffer).toString('utf8'), handle }));
}

/**
 * A template made for wrapping: a session object that only a trusted key can wrap
 * (CKA_EXTRACTABLE with CKA_WRAP_WITH_TRUSTED), still sensitive (its value is never readable).
 */
export function wrappable(template: pkcs11.Template): pkcs11.Template {
  return [...setting(setting(template, pkcs11.CKA_TOKEN, false), pkcs11.CKA_EXTRACTABLE, true), { type: pkcs11.CKA_WRAP_WITH_TRUSTED, value: true }];
}

/**
 * `template` with attribute `type` set to `value` where it stands (appended if absent):
 * SoftHSM 2.6 takes CKA_MODIFIABLE false only after CKA_TOKEN, so order matters.
 */
export function setting(template: pkcs11.Template, type: number, value: boolean): pkcs11.Template {
  return template.some((a) => a.type === type) ? template.map((a) => (a.type === type ? { type, value } : a)) : [...template, { type, value }];
}

/** What a blob says of the key inside, so that it unwraps with the attributes it was made with. */
export interface WrappedKind {
  /** CKO_SECRET_KEY or CKO_PRIVATE_KEY. */
  cls: number;
  keyType: number;
  /** The one usage flag the key was made with (CKA_ENCRYPT for AES: encrypt and decrypt; CKA_SIGN for HMAC: sign and verify). */
  usage: number;
}

export interface WrappedBlob extends WrappedKind {
  kek: string;
  payload: Buffer;
}

/**
 * Blob layout (stored base64 in key_versions.wrapped): "KW", format 1, mechanism (1:
 * CKM_AES_KEY_WRAP_PAD), KEK id length and id, class (0 secret, 1 private), key type (u32),
 * usage attribute (u32), then the wrapped key.
 */
const MAGIC = Buffer.from('KW');
const FORMAT = 1;
const MECH_AES_KEY_WRAP_PAD = 1;

export function encodeBlob(b: WrappedBlob): Buffer {
  const kek = Buffer.from(b.kek, 'utf8');
  const head = Buffer.alloc(5 + kek.length + 9);
  MAGIC.copy(head, 0);
  head[2] = FORMAT;
  head[3] = MECH_AES_KEY_WRAP_PAD;
  head[4] = kek.length;
  kek.copy(head, 5);
  let at = 5 + kek.length;
  head[at++] = b.cls === pkcs11.CKO_PRIVATE_KEY ? 1 : 0;
  head.writeUInt32BE(b.keyType, at);
  head.writeUInt32BE(b.usage, at + 4);
  return Buffer.concat([head, b.payload]);
}

export function decodeBlob(raw: Buffer): WrappedBlob {
  if (raw.length < 14 || !raw.subarray(0, 2).equals(MAGIC) || raw[2] !== FORMAT || raw[3] !== MECH_AES_KEY_WRAP_PAD) throw new HsmError('the wrapped material is not in a format this service reads');
  const len = raw[4];
  const kek = raw.subarray(5, 5 + len).toString('utf8');
  let at = 5 + len;
  if (raw.length < at + 9) throw new HsmError('the wrapped material is truncated');
  const cls = raw[at++] === 1 ? pkcs11.CKO_PRIVATE_KEY : pkcs11.CKO_SECRET_KEY;
  return { kek, cls, keyType: raw.readUInt32BE(at), usage: raw.readUInt32BE(at + 4), payload: raw.subarray(at + 8) };
}

/** The kind of an object made by this service, read from the token (for wrapping it). */
export function kindOf(m: Pkcs11, s: Handle, key: Handle): WrappedKind {
  const [cls, type] = m.C_GetAttributeValue(s, key, [{ type: pkcs11.CKA_CLASS }, { type: pkcs11.CKA_KEY_TYPE }]);
  const c = ulong(cls.value as Buffer);
  const keyType = ulong(type.value as Buffer);
  if (c === pkcs11.CKO_SECRET_KEY) return { cls: c, keyType, usage: keyType === pkcs11.CKK_AES ? pkcs11.CKA_ENCRYPT : pkcs11.CKA_SIGN };
  const [sign] = m.C_GetAttributeValue(s, key, [{ type: pkcs11.CKA_SIGN }]);
  return { cls: c, keyType, usage: (sign.value as Buffer)[0] === 1 ? pkcs11.CKA_SIGN : pkcs11.CKA_DECRYPT };
}

/** A CK_ULONG attribute as the module wrote it (8 bytes on 64-bit Linux, 4 elsewhere), little-endian. */
export const ulong = (b: Buffer): number => (b.length >= 8 ? Number(b.readBigUInt64LE(0)) : b.readUInt32LE(0));

/**
 * The template a blob's key is unwrapped with, as the service made it, always a session
 * object, and within KEK_UNWRAP_TEMPLATE: for "use" sensitive and never extractable (what the
 * cache keeps); for "rewrap" extractable by a trusted key only (to wrap it again, or copy it
 * to the token, keeping it movable back to wrapped storage). SoftHSM 2.6 refuses CKA_MODIFIABLE false in an unwrap
 * template (CKR_ATTRIBUTE_READ_ONLY) and CKA_VALUE_LEN too: the length comes from the data.
 */
export function unwrapTemplate(kind: WrappedKind, residence: 'use' | 'rewrap', id: Buffer, label: string): pkcs11.Template {
  let t: pkcs11.Template;
  if (kind.cls === pkcs11.CKO_PRIVATE_KEY) t = privateKeyTemplate(kind.keyType, id, label, false, kind.usage);
  else if (kind.keyType === pkcs11.CKK_AES) t = aesKeyTemplate(id, label, 32);
  else t = hmacKeyTemplate(id, label);
  t = t.filter((a) => a.type !== pkcs11.CKA_VALUE_LEN && a.type !== pkcs11.CKA_MODIFIABLE);
  return residence === 'use' ? setting(setting(t, pkcs11.CKA_TOKEN, false), pkcs11.CKA_WRAP_WITH_TRUSTED, true) : wrappable(t);
}

export function wrapKey(m: Pkcs11, s: Handle, kek: Handle, key: Handle): Buffer {
  return Buffer.from(m.C_WrapKey(s, { mechanism: WRAP_MECHANISM }, kek, key, Buffer.alloc(4096)));
}

export function unwrapKey(m: Pkcs11, s: Handle, kek: Handle, payload: Buffer, template: pkcs11.Template): Handle {
  return m.C_UnwrapKey(s, { mechanism: WRAP_MECHANISM }, kek, payload, template);
}

/**
 * Whether the token refuses to wrap a key marked CKA_WRAP_WITH_TRUSTED under an untrusted
 * key: two session keys, one wrap attempt. Anything but CKR_KEY_NOT_WRAPPABLE means it does not.
 */
export function honoursWrapWithTrusted(m: Pkcs11, s: Handle): boolean {
  const id = Buffer.from('kms-probe');
  const key = m.C_GenerateKey(s, { mechanism: pkcs11.CKM_AES_KEY_GEN }, wrappable(aesKeyTemplate(id, 'kms probe', 32)));
  const untrusted = m.C_GenerateKey(s, { mechanism: pkcs11.CKM_AES_KEY_GEN }, [
    ...aesKeyTemplate(id, 'kms probe', 32).filter((a) => a.type !== pkcs11.CKA_TOKEN && a.type !== pkcs11.CKA_WRAP),
    { type: pkcs11.CKA_TOKEN, value: false },
    { type: pkcs11.CKA_WRAP, value: true },
  ]);
  try {
    wrapKey(m, s, untrusted, key);
    return false;
  } catch (e) {
    if (ckrOf(e) === pkcs11.CKR_KEY_NOT_WRAPPABLE) return true;
    throw e;
  } finally {
    m.C_DestroyObject(s, key);
    m.C_DestroyObject(s, untrusted);
  }
}

/**
 * Whether the token holds `kek` to its CKA_UNWRAP_TEMPLATE: a session key wrapped by it, then
 * unwrapped into a readable, extractable key. Anything but CKR_TEMPLATE_INCONSISTENT means it
 * does not (a KEK made by an earlier release has no such template).
 */
export function unwrapTemplateEnforced(m: Pkcs11, s: Handle, kek: Handle): boolean {
  const probe = aesKeyTemplate(Buffer.from('kms-probe'), 'kms probe', 32);
  const key = m.C_GenerateKey(s, { mechanism: pkcs11.CKM_AES_KEY_GEN }, wrappable(probe));
  try {
    const weak = setting(setting(setting(probe, pkcs11.CKA_TOKEN, false), pkcs11.CKA_SENSITIVE, false), pkcs11.CKA_EXTRACTABLE, true).filter((a) => a.type !== pkcs11.CKA_VALUE_LEN && a.type !== pkcs11.CKA_MODIFIABLE);
    m.C_DestroyObject(s, unwrapKey(m, s, kek, wrapKey(m, s, kek, key), weak));
    return false;
  } catch (e) {
    if (ckrOf(e) === pkcs11.CKR_TEMPLATE_INCONSISTENT) return true;
    throw e;
  } finally {
    m.C_DestroyObject(s, key);
  }
}

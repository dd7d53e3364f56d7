import { huksError } from './huks-error';
import { decodeStrictBase64 } from '../../common/base64';

/** HuksTagType: the top four bits of a tag fix its value's JSON form. */
export const TAG_TYPE = { INT: 1, UINT: 2, ULONG: 3, BOOL: 4, BYTES: 5 } as const;
const UINT = TAG_TYPE.UINT * 2 ** 28;
const BYTES = TAG_TYPE.BYTES * 2 ** 28;

/** The tags this face reads (seed 000; IV from the OpenHarmony API). */
export const TAG = {
  ALGORITHM: UINT + 1,
  PURPOSE: UINT + 2,
  KEY_SIZE: UINT + 3,
  DIGEST: UINT + 4,
  PADDING: UINT + 5,
  BLOCK_MODE: UINT + 6,
  ASSOCIATED_DATA: BYTES + 8,
  NONCE: BYTES + 9,
  IV: BYTES + 10,
  AE_TAG: BYTES + 10009,
} as const;

export const ALG = { RSA: 1, ECC: 2, AES: 20, HMAC: 50 } as const;
export const PURPOSE = { ENCRYPT: 1, DECRYPT: 2, SIGN: 4, VERIFY: 8, MAC: 128 } as const;
export const MODE = { ECB: 1, CBC: 2, CTR: 3, GCM: 32 } as const;
export const PADDING = { NONE: 0, OAEP: 1, PSS: 2, PKCS1_V1_5: 3, PKCS7: 5 } as const;
export const DIGEST = { NONE: 0, SHA1: 10, SHA256: 12 } as const;

export const MAX_PROPERTIES = 64;
const MAX_BYTES_VALUE = 1024;

export type Value = number | bigint | boolean | Buffer;

/** A request's properties by tag (the last of a repeated tag wins, as HUKS reads them). */
export class Properties {
  constructor(private readonly byTag: Map<number, Value>) {}

  uint(tag: number): number | undefined {
    return this.byTag.get(tag) as number | undefined;
  }
  /** A required UINT; absent: 12000002. */
  need(tag: number, name: string): number {
    const v = this.uint(tag);
    if (v === undefined) throw huksError('MissingParameter', `the property ${name} is required`);
    return v;
  }
  bytes(tag: number): Buffer | undefined {
    return this.byTag.get(tag) as Buffer | undefined;
  }
}

/** Standard base64 with padding (decodeStrictBase64), or 401; larger than `max` bytes, TooLarge. */
export function base64(s: unknown, what: string, max: number): Buffer {
  if (typeof s !== 'string' || s.length % 4 !== 0) throw huksError('InvalidArgument', `${what} must be standard base64`);
  if ((s.length / 4) * 3 > max + 2) throw huksError('TooLarge', `${what} is larger than ${max} bytes`);
  const b = decodeStrictBase64(s);
  if (!b) throw huksError('InvalidArgument', `${what} must be standard base64`);
  if (b.length > max) throw huksError('TooLarge', `${what} is larger than ${max} bytes`);
  return b;
}

/** `[{tag, value}]` as documented; a malformed entry is 401. Unknown tags are kept (and ignored by the operations). */
export function parseProperties(raw: unknown): Properties {
  if (raw === undefined) return new Properties(new Map());
  if (!Array.isArray(raw)) throw huksError('InvalidArgument', 'options.properties must be an array');
  if (raw.length > MAX_PROPERTIES) throw huksError('InvalidArgument', `options.properties holds at most ${MAX_PROPERTIES} entries`);
  const byTag = new Map<number, Value>();
  for (const p of raw) {
    if (typeof p !== 'object' || p === null || Array.isArray(p)) throw huksError('InvalidArgument', 'each property is an object {tag, value}');
    const { tag, value } = p as { tag: unknown; value: unknown };
    if (typeof tag !== 'number' || !Number.isSafeInteger(tag) || tag <= 0 || tag > 0xffffffff) throw huksError('InvalidArgument', 'a property tag is a positive 32-bit integer');
    byTag.set(tag, valueOf(tag, value));
  }
  return new Properties(byTag);
}

function valueOf(tag: number, value: unknown): Value {
  const type = Math.floor(tag / 2 ** 28);
  const bad = (form: string) => huksError('InvalidArgument', `the value of tag ${tag} must be ${form}`);
  switch (type) {
    case TAG_TYPE.INT:
      if (typeof value !== 'number' || !Number.isInteger(value) || value < -(2 ** 31) || value >= 2 ** 31) throw bad('a 32-bit integer');
      return value;
    case TAG_TYPE.UINT:
      if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value >= 2 ** 32) throw bad('an unsigned 32-bit integer');
      return value;
    case TAG_TYPE.ULONG:
      if (typeof value !== 'string' || !/^\d{1,20}$/.test(value) || BigInt(value) >= 2n ** 64n) throw bad('a string of decimal digits (an unsigned 64-bit integer)');
      return BigInt(value);
    case TAG_TYPE.BOOL:
      if (typeof value !== 'boolean') throw bad('true or false');
      return value;
    case TAG_TYPE.BYTES:
      return base64(value, `the value of tag ${tag}`, MAX_BYTES_VALUE);
    default:
      throw huksError('InvalidArgument', `tag ${tag} has no valid HuksTagType`);
  }
}

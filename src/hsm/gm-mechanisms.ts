/**
 * The vendor-defined PKCS#11 ids a GM-certified HSM uses for SM2 and SM4. PKCS#11 itself
 * defines no SM2/SM3/SM4 mechanisms or key types, so every vendor numbers them in its own
 * CKM_VENDOR_DEFINED / CKK_VENDOR_DEFINED range; a profile declares them (hsm-config/README.md,
 * "GM mechanisms"). Absent, the token is taken to have no SM2 or SM4 at all.
 */
export interface Sm2Mechanisms {
  /** CKA_KEY_TYPE of SM2 key pairs (e.g. CKK_VENDOR_DEFINED + 4). */
  keyType: number;
  /** C_GenerateKeyPair mechanism. */
  keyPairGen: number;
  /** CKA_EC_PARAMS for the generated pair, DER; absent when the token takes none (the curve is implied by keyType). */
  ecParams?: Buffer;
  /** Signs a 32-byte e = SM3(Z || M) computed by the caller (no SM3 in the token). */
  sign?: number;
  /** Signs M, computing Z (default ID 1234567812345678) and SM3 inside the token. */
  signWithSm3?: number;
  /** How the token returns a signature: r || s (64 bytes) or a DER SEQUENCE { r, s }. */
  signatureFormat: 'raw' | 'der';
  /** C_Decrypt mechanism for SM2 ciphertexts. */
  decrypt?: number;
  /** The ciphertext layout the decrypt mechanism takes. */
  ciphertextFormat: 'c1c3c2' | 'c1c2c3' | 'der';
}

export interface Sm4Mechanisms {
  /** CKA_KEY_TYPE of SM4 secret keys. */
  keyType: number;
  keyGen: number;
  ecb?: number;
  cbc?: number;
}

export interface GmMechanisms {
  sm2?: Sm2Mechanisms;
  sm4?: Sm4Mechanisms;
}

const MAX_CK_ULONG = 0xffffffff;
const HEX_ID = /^0x[0-9a-fA-F]{1,8}$/;
/** DER OBJECT IDENTIFIER or PrintableString, as CKA_EC_PARAMS allows; an OID is all SM2 needs. */
const EC_PARAMS_HEX = /^(?:[0-9a-fA-F]{2}){3,64}$/;

/** Reads the profile's `gm` object; `fail` throws with the file's name. */
export function parseGmMechanisms(raw: unknown, fail: (m: string) => never): GmMechanisms {
  if (raw === undefined) return {};
  const gm = object(raw, 'gm', fail);
  known(gm, ['sm2', 'sm4'], 'gm', fail);
  const out: GmMechanisms = {};
  if (gm.sm2 !== undefined) out.sm2 = parseSm2(object(gm.sm2, 'gm.sm2', fail), fail);
  if (gm.sm4 !== undefined) out.sm4 = parseSm4(object(gm.sm4, 'gm.sm4', fail), fail);
  return out;
}

function parseSm2(o: Record<string, unknown>, fail: (m: string) => never): Sm2Mechanisms {
  known(o, ['keyType', 'keyPairGen', 'ecParams', 'sign', 'signWithSm3', 'signatureFormat', 'decrypt', 'ciphertextFormat'], 'gm.sm2', fail);
  const sm2: Sm2Mechanisms = {
    keyType: id(o.keyType, 'gm.sm2.keyType', fail, true)!,
    keyPairGen: id(o.keyPairGen, 'gm.sm2.keyPairGen', fail, true)!,
    ecParams: ecParams(o.ecParams, fail),
    sign: id(o.sign, 'gm.sm2.sign', fail),
    signWithSm3: id(o.signWithSm3, 'gm.sm2.signWithSm3', fail),
    signatureFormat: oneOf(o.signatureFormat, ['raw', 'der'] as const, 'raw', 'gm.sm2.signatureFormat', fail),
    decrypt: id(o.decrypt, 'gm.sm2.decrypt', fail),
    ciphertextFormat: oneOf(o.ciphertextFormat, ['c1c3c2', 'c1c2c3', 'der'] as const, 'c1c3c2', 'gm.sm2.ciphertextFormat', fail),
  };
  // A key pair that can do nothing would be offered and then fail every use.
  if (sm2.sign === undefined && sm2.signWithSm3 === undefined && sm2.decrypt === undefined) fail('gm.sm2 needs at least one of sign, signWithSm3, decrypt');
  return sm2;
}

function parseSm4(o: Record<string, unknown>, fail: (m: string) => never): Sm4Mechanisms {
  known(o, ['keyType', 'keyGen', 'ecb', 'cbc'], 'gm.sm4', fail);
  const sm4: Sm4Mechanisms = {
    keyType: id(o.keyType, 'gm.sm4.keyType', fail, true)!,
    keyGen: id(o.keyGen, 'gm.sm4.keyGen', fail, true)!,
    ecb: id(o.ecb, 'gm.sm4.ecb', fail),
    cbc: id(o.cbc, 'gm.sm4.cbc', fail),
  };
  if (sm4.ecb === undefined && sm4.cbc === undefined) fail('gm.sm4 needs at least one of ecb, cbc');
  return sm4;
}

function object(v: unknown, field: string, fail: (m: string) => never): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) fail(`${field} must be an object`);
  return v as Record<string, unknown>;
}

/** Unlike the rest of the profile, a misspelt field here would silently drop a mechanism: refuse it. */
function known(o: Record<string, unknown>, fields: string[], where: string, fail: (m: string) => never): void {
  const extra = Object.keys(o).filter((k) => !fields.includes(k));
  if (extra.length) fail(`${where} has unknown field(s) ${extra.join(', ')} (allowed: ${fields.join(', ')})`);
}

/** A CK_ULONG id, as an integer or (since JSON has no hex) a "0x..." string. */
function id(v: unknown, field: string, fail: (m: string) => never, required = false): number | undefined {
  if (v === undefined) return required ? fail(`${field} is required`) : undefined;
  const n = typeof v === 'string' && HEX_ID.test(v) ? parseInt(v.slice(2), 16) : typeof v === 'number' && Number.isInteger(v) ? v : NaN;
  if (!(n >= 0 && n <= MAX_CK_ULONG)) fail(`${field} must be an integer 0..0xffffffff or a "0x..." hex string of at most 8 digits`);
  return n;
}

function ecParams(v: unknown, fail: (m: string) => never): Buffer | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'string' || !EC_PARAMS_HEX.test(v) || v.slice(0, 2) !== '06') fail('gm.sm2.ecParams must be the hex of a DER OBJECT IDENTIFIER (starting 06), e.g. 06082a811ccf5501822d for the SM2 curve');
  const der = Buffer.from(v as string, 'hex');
  if (der[1] !== der.length - 2) fail('gm.sm2.ecParams is not one DER OBJECT IDENTIFIER (its length byte does not match)');
  return der;
}

function oneOf<T extends string>(v: unknown, allowed: readonly T[], dflt: T, field: string, fail: (m: string) => never): T {
  if (v === undefined) return dflt;
  if (!allowed.includes(v as T)) fail(`${field} must be one of ${allowed.map((a) => `"${a}"`).join(', ')}`);
  return v as T;
}

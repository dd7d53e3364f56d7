import type { PairStreamSpec } from '../../crypto/asymmetric.service';
import type { StreamSpec } from '../../hsm/key-store';
import { KeySpec, KeyUsage, isKeyUsage } from '../../keys/key-params';
import { huksError } from './huks-error';
import { ALG, DIGEST, MODE, PADDING, PURPOSE, Properties, TAG } from './properties';

/** AES key sizes in bits, and the core's spec of each. */
const AES_SPECS: Readonly<Record<number, KeySpec>> = { 128: 'aes-128', 192: 'aes-192', 256: 'aes-256' };

/** The core's key usages as HUKS names a key's algorithm and purposes, for messages. */
const USAGE_NAMES: Readonly<Record<KeyUsage, string>> = {
  'aes:encrypt-decrypt': 'HUKS_ALG_AES (HUKS_KEY_PURPOSE_ENCRYPT | HUKS_KEY_PURPOSE_DECRYPT)',
  'hmac:mac': 'HUKS_ALG_HMAC (HUKS_KEY_PURPOSE_MAC)',
  'rsa-2048:decrypt': 'HUKS_ALG_RSA 2048 (HUKS_KEY_PURPOSE_DECRYPT)',
  'rsa-2048:sign': 'HUKS_ALG_RSA 2048 (HUKS_KEY_PURPOSE_SIGN | HUKS_KEY_PURPOSE_VERIFY)',
  'ec-p256:sign': 'HUKS_ALG_ECC P-256 (HUKS_KEY_PURPOSE_SIGN | HUKS_KEY_PURPOSE_VERIFY)',
  'sm2:decrypt': 'HUKS_ALG_SM2 (HUKS_KEY_PURPOSE_DECRYPT)',
  'sm2:sign': 'HUKS_ALG_SM2 (HUKS_KEY_PURPOSE_SIGN | HUKS_KEY_PURPOSE_VERIFY)',
};
export const usageName = (usage: string): string => (isKeyUsage(usage) ? USAGE_NAMES[usage] : usage);


/** What generateKeyItem and importKeyItem make, in the core's terms; `bytes` is the material's length, for secret keys only. */
export interface KeyMake {
  keySpec?: KeySpec;
  keyUsage?: KeyUsage;
  bytes?: number;
}

const within = (purpose: number, allowed: number) => purpose !== 0 && (purpose & ~allowed) === 0;

/** The key pairs the core makes: RSA-2048 that signs or decrypts, ECC P-256 that signs. */
function pairMake(alg: number, p: Properties, purpose: number): KeyMake {
  const rsa = alg === ALG.RSA;
  const size = p.need(TAG.KEY_SIZE, 'HUKS_TAG_KEY_SIZE');
  if (size !== (rsa ? 2048 : 256)) throw huksError('Unsupported', rsa ? `RSA keys here are 2048 bits, not ${size}` : `ECC keys here are on P-256 (256 bits), not ${size}`);
  const signs = within(purpose, PURPOSE.SIGN | PURPOSE.VERIFY);
  if (signs) return { keyUsage: rsa ? 'rsa-2048:sign' : 'ec-p256:sign' };
  if (rsa && within(purpose, PURPOSE.ENCRYPT | PURPOSE.DECRYPT) && purpose & PURPOSE.DECRYPT) return { keyUsage: 'rsa-2048:decrypt' };
  throw huksError('Unsupported', rsa ? 'an RSA key here either signs and verifies (SIGN|VERIFY) or decrypts (DECRYPT, with ENCRYPT if given)' : 'an ECC key here signs and verifies (SIGN|VERIFY)');
}

/** What generateKeyItem and importKeyItem make, from HUKS properties. */
export function keySpecOf(p: Properties): KeyMake {
  const alg = p.need(TAG.ALGORITHM, 'HUKS_TAG_ALGORITHM');
  const purpose = p.need(TAG.PURPOSE, 'HUKS_TAG_PURPOSE');
  if (alg === ALG.AES) {
    const size = p.need(TAG.KEY_SIZE, 'HUKS_TAG_KEY_SIZE');
    if (!Object.hasOwn(AES_SPECS, size)) throw huksError('InvalidParameter', `an AES key is 128, 192 or 256 bits, not ${size}`);
    if (!within(purpose, PURPOSE.ENCRYPT | PURPOSE.DECRYPT)) throw huksError('InvalidParameter', 'an AES key\'s purpose is ENCRYPT, DECRYPT or both');
    return { keySpec: AES_SPECS[size], bytes: size / 8 };
  }
  if (alg === ALG.HMAC) {
    const size = p.uint(TAG.KEY_SIZE) ?? 256;
    if (size !== 256) throw huksError('InvalidParameter', `an HMAC key is 256 bits here, not ${size}`);
    if (purpose !== PURPOSE.MAC) throw huksError('InvalidParameter', 'an HMAC key\'s purpose is MAC');
    const digest = p.uint(TAG.DIGEST);
    if (digest !== undefined && digest !== DIGEST.SHA256) throw huksError('Unsupported', 'HMAC keys here use SHA-256 (HUKS_DIGEST_SHA256)');
    return { keySpec: 'hmac-256', bytes: 32 };
  }
  if (alg === ALG.RSA || alg === ALG.ECC) return pairMake(alg, p, purpose);
  throw huksError('Unsupported', `algorithm ${alg} is not supported here (RSA 1, ECC 2, AES 20, HMAC 50)`);
}

/** The operation a session performs, as policies name it. */
export type SessionAction = 'Encrypt' | 'Decrypt' | 'GenerateMac' | 'SignByAsymmetricKey' | 'VerifyByAsymmetricKey' | 'AsymmetricRsaDecrypt';

/** A session with a secret key (a multi-part operation of the token) or with a key pair. */
export type SessionPlan = { pair: false; spec: StreamSpec; bytes?: number; action: SessionAction } | { pair: true; spec: PairStreamSpec; action: SessionAction };

const need = (b: Buffer | undefined, name: string, len: number): Buffer => {
  if (!b) throw huksError('MissingParameter', `the property ${name} is required`);
  if (b.length !== len) throw huksError('InvalidParameter', `${name} must be ${len} bytes`);
  return b;
};

/** initSession's properties as a multi-part operation. */
export function sessionPlanOf(p: Properties): SessionPlan {
  const alg = p.need(TAG.ALGORITHM, 'HUKS_TAG_ALGORITHM');
  const purpose = p.need(TAG.PURPOSE, 'HUKS_TAG_PURPOSE');
  const size = p.uint(TAG.KEY_SIZE);
  if (alg === ALG.RSA || alg === ALG.ECC) return pairPlanOf(alg, p, purpose, size);
  if (alg === ALG.HMAC) {
    if (purpose !== PURPOSE.MAC) throw huksError('InvalidParameter', 'an HMAC session\'s purpose is MAC');
    const digest = p.uint(TAG.DIGEST);
    if (digest !== undefined && digest !== DIGEST.SHA256) throw huksError('Unsupported', 'HMAC sessions here use SHA-256 (HUKS_DIGEST_SHA256)');
    if (size !== undefined && size !== 256) throw huksError('InvalidParameter', `an HMAC key is 256 bits here, not ${size}`);
    return { pair: false, spec: { op: 'mac', cipher: 'hmac-sha256' }, bytes: 32, action: 'GenerateMac' };
  }
  if (alg !== ALG.AES) throw huksError('Unsupported', `algorithm ${alg} is not supported here (RSA 1, ECC 2, AES 20, HMAC 50)`);
  if (purpose !== PURPOSE.ENCRYPT && purpose !== PURPOSE.DECRYPT) throw huksError('InvalidParameter', 'an AES session\'s purpose is exactly one of ENCRYPT and DECRYPT');
  if (size !== undefined && size !== 128 && size !== 192 && size !== 256) throw huksError('InvalidParameter', `an AES key is 128, 192 or 256 bits, not ${size}`);
  const op = purpose === PURPOSE.ENCRYPT ? 'encrypt' : 'decrypt';
  const mode = p.need(TAG.BLOCK_MODE, 'HUKS_TAG_BLOCK_MODE');
  const padding = p.uint(TAG.PADDING) ?? PADDING.NONE;
  const bytes = size === undefined ? undefined : size / 8;
  const action = op === 'encrypt' ? 'Encrypt' : 'Decrypt';
  const plan = (spec: StreamSpec): SessionPlan => ({ pair: false, spec, bytes, action });
  const noPadding = (m: string) => {
    if (padding !== PADDING.NONE) throw huksError('Unsupported', `${m} takes no padding (HUKS_PADDING_NONE)`);
  };
  switch (mode) {
    case MODE.GCM:
      noPadding('GCM');
      return plan({ op, cipher: 'aes-gcm', iv: need(p.bytes(TAG.NONCE), 'HUKS_TAG_NONCE', 12), aad: p.bytes(TAG.ASSOCIATED_DATA) ?? Buffer.alloc(0) });
    case MODE.CBC:
      if (padding !== PADDING.NONE && padding !== PADDING.PKCS7) throw huksError('Unsupported', 'CBC takes HUKS_PADDING_NONE or HUKS_PADDING_PKCS7');
      return plan({ op, cipher: padding === PADDING.PKCS7 ? 'aes-cbc-pad' : 'aes-cbc', iv: need(p.bytes(TAG.IV), 'HUKS_TAG_IV', 16) });
    case MODE.CTR:
      noPadding('CTR');
      return plan({ op, cipher: 'aes-ctr', iv: need(p.bytes(TAG.IV), 'HUKS_TAG_IV', 16) });
    case MODE.ECB:
      noPadding('ECB (here)');
      return plan({ op, cipher: 'aes-ecb' });
    default:
      throw huksError('Unsupported', `block mode ${mode} is not supported here (ECB 1, CBC 2, CTR 3, GCM 32)`);
  }
}

/**
 * A key-pair session: RSA-2048 signs or verifies with PSS or PKCS1 v1.5 over SHA-256, or
 * decrypts with OAEP (SHA-1; SHA-256 where the token can) or PKCS1 v1.5; ECC P-256 signs or
 * verifies with ECDSA over SHA-256. Encryption with a public key is not done here.
 */
function pairPlanOf(alg: number, p: Properties, purpose: number, size: number | undefined): SessionPlan {
  const rsa = alg === ALG.RSA;
  if (size !== undefined && size !== (rsa ? 2048 : 256)) throw huksError('InvalidParameter', rsa ? `RSA keys here are 2048 bits, not ${size}` : `ECC keys here are 256 bits, not ${size}`);
  if (purpose === PURPOSE.SIGN || purpose === PURPOSE.VERIFY) {
    const digest = p.need(TAG.DIGEST, 'HUKS_TAG_DIGEST');
    if (digest !== DIGEST.SHA256) throw huksError('Unsupported', 'signatures here are over SHA-256 (HUKS_DIGEST_SHA256)');
    const op = purpose === PURPOSE.SIGN ? 'sign' : 'verify';
    const action = op === 'sign' ? 'SignByAsymmetricKey' : 'VerifyByAsymmetricKey';
    if (!rsa) return { pair: true, spec: { op, algorithm: 'ecdsa-sha256' }, action };
    const padding = p.need(TAG.PADDING, 'HUKS_TAG_PADDING');
    if (padding === PADDING.PSS) return { pair: true, spec: { op, algorithm: 'rsa-pss-sha256' }, action };
    if (padding === PADDING.PKCS1_V1_5) return { pair: true, spec: { op, algorithm: 'rsa-pkcs1-sha256' }, action };
    throw huksError('Unsupported', 'RSA signatures here use HUKS_PADDING_PSS or HUKS_PADDING_PKCS1_V1_5');
  }
  if (rsa && purpose === PURPOSE.DECRYPT) {
    const padding = p.need(TAG.PADDING, 'HUKS_TAG_PADDING');
    const action = 'AsymmetricRsaDecrypt';
    if (padding === PADDING.PKCS1_V1_5) return { pair: true, spec: { op: 'decrypt', algorithm: 'rsa-pkcs1-v1_5' }, action };
    if (padding !== PADDING.OAEP) throw huksError('Unsupported', 'RSA decryption here uses HUKS_PADDING_OAEP or HUKS_PADDING_PKCS1_V1_5');
    const digest = p.need(TAG.DIGEST, 'HUKS_TAG_DIGEST');
    if (digest === DIGEST.SHA1) return { pair: true, spec: { op: 'decrypt', algorithm: 'rsa-oaep-sha1' }, action };
    if (digest === DIGEST.SHA256) return { pair: true, spec: { op: 'decrypt', algorithm: 'rsa-oaep-sha256' }, action };
    throw huksError('Unsupported', 'OAEP here uses HUKS_DIGEST_SHA1 (or HUKS_DIGEST_SHA256 where the token can)');
  }
  if (rsa && purpose === PURPOSE.ENCRYPT) throw huksError('Unsupported', 'encryption with an RSA public key is not done here: encrypt with the public key (GetPublicKey on the other faces) and decrypt here');
  throw huksError('InvalidParameter', rsa ? 'an RSA session\'s purpose is exactly one of SIGN, VERIFY and DECRYPT' : 'an ECC session\'s purpose is exactly one of SIGN and VERIFY');
}

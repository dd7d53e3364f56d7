import * as crypto from 'node:crypto';
import * as pkcs11 from 'pkcs11js';
import { aesKeyTemplate } from './aes';
import { HsmDataInvalidError, HsmMechanismError, ckrOf } from './hsm-errors';
import { WrappingAlgorithm } from './key-store';
import { Handle, Pkcs11 } from './token';
import { PROBE_ID, ProbePair, TemplateAdapter, asIs, generatePair, off, privateKeyTemplate, publicKeyTemplate } from './key-pair';
import { asSessionObject } from './token-copy';

/** RSA family: the wrapping key pairs of imported material and unwrapping into AES keys; asymmetric CMKs' pairs, signing and decryption; all inside the token. */

export const WRAPPING_KEY_BITS = 2048;
/** CK_RSA_PKCS_OAEP_PARAMS.source: an empty label, as openssl and the SDKs use (pkcs11js lacks the constant). */
const CKZ_DATA_SPECIFIED = 1;

/**
 * Each algorithm's token mechanism, with its parameters, and the host-side padding a client
 * uses. Parameters come only from this table: pkcs11js hands malformed ones to the module as
 * garbage. OAEP's MGF1 hash is the OAEP hash, as `openssl pkeyutl -pkeyopt rsa_oaep_md:` sets it.
 */
const ALGORITHMS: Record<WrappingAlgorithm, { mechanism: pkcs11.Mechanism; padding: number; oaepHash?: string }> = {
  'rsa-pkcs1-v1_5': { mechanism: { mechanism: pkcs11.CKM_RSA_PKCS }, padding: crypto.constants.RSA_PKCS1_PADDING },
  'rsa-oaep-sha1': { mechanism: oaep(pkcs11.CKM_SHA_1, pkcs11.CKG_MGF1_SHA1), padding: crypto.constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha1' },
  'rsa-oaep-sha256': { mechanism: oaep(pkcs11.CKM_SHA256, pkcs11.CKG_MGF1_SHA256), padding: crypto.constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' },
};

function oaep(hashAlg: number, mgf: number): pkcs11.Mechanism {
  const parameter: pkcs11.RsaOAEP = { type: pkcs11.CK_PARAMS_RSA_OAEP, hashAlg, mgf, source: CKZ_DATA_SPECIFIED };
  return { mechanism: pkcs11.CKM_RSA_PKCS_OAEP, parameter };
}

export const unwrapMechanismType = (algorithm: WrappingAlgorithm): number => ALGORITHMS[algorithm].mechanism.mechanism;

/** RSA's public half: 2048 bits, exponent 65537, no usage (the service verifies and encrypts on the host). */
const rsaPublicTemplate = (): pkcs11.Template =>
  publicKeyTemplate(pkcs11.CKK_RSA, [
    { type: pkcs11.CKA_MODULUS_BITS, value: WRAPPING_KEY_BITS },
    { type: pkcs11.CKA_PUBLIC_EXPONENT, value: Buffer.from([1, 0, 1]) },
    ...off(pkcs11.CKA_ENCRYPT, pkcs11.CKA_WRAP, pkcs11.CKA_VERIFY, pkcs11.CKA_VERIFY_RECOVER, pkcs11.CKA_DERIVE),
  ]);

/** An RSA-2048 unwrap-only private key named `id`; returns its handle and the public key as SPKI DER. */
export function generateWrappingKey(m: Pkcs11, s: Handle, id: Buffer, label: string, persistent: boolean): Promise<{ privateKey: Handle; spki: Buffer }> {
  return generateRsaPair(m, s, id, label, persistent, pkcs11.CKA_UNWRAP);
}

/** An RSA-2048 pair whose private key, named `id`, can only decrypt or only sign; returns its handle and the public key as SPKI DER. */
export async function generateRsaPair(m: Pkcs11, s: Handle, id: Buffer, label: string, persistent: boolean, usage: number, adapt: TemplateAdapter = asIs): Promise<{ privateKey: Handle; spki: Buffer }> {
  const priv = adapt(privateKeyTemplate(pkcs11.CKK_RSA, id, label, persistent, usage));
  const { privateKey, publicKey } = await generatePair(m, s, pkcs11.CKM_RSA_PKCS_KEY_PAIR_GEN, rsaPublicTemplate(), priv, (pub) => {
    const [n, e] = m.C_GetAttributeValue(s, pub, [{ type: pkcs11.CKA_MODULUS }, { type: pkcs11.CKA_PUBLIC_EXPONENT }]);
    const jwk = { kty: 'RSA', n: (n.value as Buffer).toString('base64url'), e: (e.value as Buffer).toString('base64url') };
    return crypto.createPublicKey({ key: jwk, format: 'jwk' }).export({ type: 'spki', format: 'der' });
  });
  return { privateKey, spki: publicKey };
}

/**
 * aesKeyTemplate for a session key made by C_UnwrapKey, which `copyToTokenIfAble` takes to the token
 * once the material is checked. Without CKA_VALUE_LEN: the length comes from the unwrapped
 * data, and SoftHSM refuses the attribute (CKR_ATTRIBUTE_READ_ONLY).
 */
function aesUnwrapTemplate(id: Buffer, label: string): pkcs11.Template {
  return asSessionObject(aesKeyTemplate(id, label, 32).filter((a) => a.type !== pkcs11.CKA_VALUE_LEN));
}

/**
 * Decrypts `wrapped` inside the token straight into a new AES session key (gone with the
 * session, nothing persistent); undecryptable input raises HsmDataInvalidError.
 */
export function unwrapAesKey(m: Pkcs11, s: Handle, unwrappingKey: Handle, algorithm: WrappingAlgorithm, wrapped: Buffer, id: Buffer, label: string, adapt: TemplateAdapter = asIs): Handle {
  try {
    return m.C_UnwrapKey(s, ALGORITHMS[algorithm].mechanism, unwrappingKey, wrapped, adapt(aesUnwrapTemplate(id, label)));
  } catch (e) {
    // SoftHSM answers bad padding (wrong key, algorithm or data) with CKR_GENERAL_ERROR; only
    // here does that code mean "bad data" rather than a failing token.
    if (ckrOf(e) === pkcs11.CKR_GENERAL_ERROR) throw new HsmDataInvalidError('C_UnwrapKey: the wrapped key does not decrypt', pkcs11.CKR_GENERAL_ERROR, 'C_UnwrapKey');
    throw e;
  }
}

/** A random AES session key of `bytes` bytes: the stand-in measured in place of material that did not decrypt. */
export function sessionAesKey(m: Pkcs11, s: Handle, bytes: 16 | 32): Handle {
  const template = aesKeyTemplate(Buffer.from('kms-import-stand-in'), 'kms import stand-in', bytes).map((a) => (a.type === pkcs11.CKA_TOKEN ? { type: a.type, value: false } : a));
  return m.C_GenerateKey(s, { mechanism: pkcs11.CKM_AES_KEY_GEN }, template);
}

/** A session pair whose private key can only `usage` (CKA_UNWRAP, CKA_DECRYPT or CKA_SIGN), for probes. */
export function rsaProbePair(m: Pkcs11, s: Handle, usage: number): Promise<ProbePair> {
  return generateRsaPair(m, s, PROBE_ID, 'kms probe', false, usage);
}

/**
 * Whether the token really unwraps with `algorithm` (mechanism lists overclaim: SoftHSM lists
 * OAEP but refuses SHA-256 with CKR_ARGUMENTS_BAD): a random key encrypted on the host as a
 * client would, unwrapped into a session key under an unwrap-only probe pair. Throws when the
 * token refuses.
 */
export function probeUnwrap(m: Pkcs11, s: Handle, pair: ProbePair, algorithm: WrappingAlgorithm): void {
  const { padding, oaepHash } = ALGORITHMS[algorithm];
  const wrapped = crypto.publicEncrypt({ key: crypto.createPublicKey({ key: pair.spki, format: 'der', type: 'spki' }), padding, oaepHash }, crypto.randomBytes(32));
  m.C_DestroyObject(s, unwrapAesKey(m, s, pair.privateKey, algorithm, wrapped, PROBE_ID, 'kms probe'));
}

/** DigestInfo of SHA-256 (RFC 8017 9.2 note 1): CKM_RSA_PKCS signs it followed by the digest. */
const SHA256_DIGEST_INFO = Buffer.from('3031300d060960864801650304020105000420', 'hex');
export const SHA256_BYTES = 32;
const RSA_BYTES = WRAPPING_KEY_BITS / 8;

/**
 * The signing mechanisms over a digest made on the host. PSS: MGF1-SHA-256 and a 32-byte
 * salt, which OpenSSL's and Node's verifiers accept with their defaults.
 */
function rsaSignMechanism(algorithm: 'rsa-pss-sha256' | 'rsa-pkcs1-sha256'): pkcs11.Mechanism {
  if (algorithm === 'rsa-pkcs1-sha256') return { mechanism: pkcs11.CKM_RSA_PKCS };
  const parameter: pkcs11.RsaPSS = { type: pkcs11.CK_PARAMS_RSA_PSS, hashAlg: pkcs11.CKM_SHA256, mgf: pkcs11.CKG_MGF1_SHA256, saltLen: SHA256_BYTES };
  return { mechanism: pkcs11.CKM_RSA_PKCS_PSS, parameter };
}

export const rsaSignMechanismType = (algorithm: 'rsa-pss-sha256' | 'rsa-pkcs1-sha256'): number => rsaSignMechanism(algorithm).mechanism;

/** Signs a SHA-256 digest with an RSA private key; the signature is the RSASSA bytes, as OpenSSL writes them. */
export function rsaSign(m: Pkcs11, s: Handle, key: Handle, algorithm: 'rsa-pss-sha256' | 'rsa-pkcs1-sha256', digest: Buffer): Buffer {
  if (digest.length !== SHA256_BYTES) throw new HsmDataInvalidError(`a SHA-256 digest is ${SHA256_BYTES} bytes`);
  const input = algorithm === 'rsa-pkcs1-sha256' ? Buffer.concat([SHA256_DIGEST_INFO, digest]) : digest;
  m.C_SignInit(s, rsaSignMechanism(algorithm), key);
  return Buffer.from(m.C_Sign(s, input, Buffer.alloc(RSA_BYTES)));
}

/**
 * RSA decryption with an RSA-2048 private key. Input that is not one modulus long is refused
 * before the token sees it; a padding that does not check raises HsmDataInvalidError (SoftHSM
 * answers some of them CKR_GENERAL_ERROR, which here means bad data).
 */
export function rsaDecrypt(m: Pkcs11, s: Handle, key: Handle, algorithm: WrappingAlgorithm, ciphertext: Buffer): Buffer {
  if (ciphertext.length !== RSA_BYTES) throw new HsmDataInvalidError(`an RSA-2048 ciphertext is ${RSA_BYTES} bytes`);
  m.C_DecryptInit(s, ALGORITHMS[algorithm].mechanism, key);
  try {
    return Buffer.from(m.C_Decrypt(s, ciphertext, Buffer.alloc(RSA_BYTES)));
  } catch (e) {
    if (ckrOf(e) === pkcs11.CKR_GENERAL_ERROR) throw new HsmDataInvalidError('C_Decrypt: the ciphertext does not decrypt', pkcs11.CKR_GENERAL_ERROR, 'C_Decrypt');
    throw e;
  }
}

/** Whether the token decrypts with `algorithm`: a host-side encryption to a decrypt-only probe pair, its decryption checked. Throws when not. */
export function probeDecrypt(m: Pkcs11, s: Handle, pair: ProbePair, algorithm: WrappingAlgorithm): void {
  const { padding, oaepHash } = ALGORITHMS[algorithm];
  const secret = crypto.randomBytes(32);
  const ct = crypto.publicEncrypt({ key: crypto.createPublicKey({ key: pair.spki, format: 'der', type: 'spki' }), padding, oaepHash }, secret);
  const out = rsaDecrypt(m, s, pair.privateKey, algorithm, ct);
  if (out.length !== secret.length || !crypto.timingSafeEqual(out, secret)) throw new HsmMechanismError(`${algorithm} decrypts wrongly`);
}

/** Whether the token signs with `algorithm`, under a sign-only probe pair, as Node verifies it. Throws when not. */
export function probeRsaSign(m: Pkcs11, s: Handle, pair: ProbePair, algorithm: 'rsa-pss-sha256' | 'rsa-pkcs1-sha256'): void {
  const data = crypto.randomBytes(32);
  const sig = rsaSign(m, s, pair.privateKey, algorithm, crypto.createHash('sha256').update(data).digest());
  const key = crypto.createPublicKey({ key: pair.spki, format: 'der', type: 'spki' });
  const padding = algorithm === 'rsa-pss-sha256' ? crypto.constants.RSA_PKCS1_PSS_PADDING : crypto.constants.RSA_PKCS1_PADDING;
  if (!crypto.verify('sha256', data, { key, padding }, sig)) throw new HsmMechanismError(`${algorithm} signs wrongly`);
}

/**
 * Whether `signature` is `algorithm`'s signature of `digest` under the RSA public key `spki`,
 * checked by the token (which compares) with the public key as a session object.
 */
export function rsaVerify(m: Pkcs11, s: Handle, spki: Buffer, algorithm: 'rsa-pss-sha256' | 'rsa-pkcs1-sha256', digest: Buffer, signature: Buffer): boolean {
  if (digest.length !== SHA256_BYTES || signature.length !== RSA_BYTES) return false;
  const jwk = crypto.createPublicKey({ key: spki, format: 'der', type: 'spki' }).export({ format: 'jwk' });
  const key = m.C_CreateObject(s, [
    { type: pkcs11.CKA_CLASS, value: pkcs11.CKO_PUBLIC_KEY },
    { type: pkcs11.CKA_KEY_TYPE, value: pkcs11.CKK_RSA },
    { type: pkcs11.CKA_TOKEN, value: false },
    { type: pkcs11.CKA_VERIFY, value: true },
    { type: pkcs11.CKA_MODULUS, value: Buffer.from(jwk.n!, 'base64url') },
    { type: pkcs11.CKA_PUBLIC_EXPONENT, value: Buffer.from(jwk.e!, 'base64url') },
  ]);
  try {
    const input = algorithm === 'rsa-pkcs1-sha256' ? Buffer.concat([SHA256_DIGEST_INFO, digest]) : digest;
    return verifyWith(m, s, rsaSignMechanism(algorithm), key, input, signature);
  } finally {
    m.C_DestroyObject(s, key);
  }
}

/** C_Verify, false for a signature that does not verify rather than an error. */
export function verifyWith(m: Pkcs11, s: Handle, mechanism: pkcs11.Mechanism, key: Handle, data: Buffer, signature: Buffer): boolean {
  m.C_VerifyInit(s, mechanism, key);
  try {
    return m.C_Verify(s, data, signature);
  } catch (e) {
    const code = ckrOf(e);
    if (code === pkcs11.CKR_SIGNATURE_INVALID || code === pkcs11.CKR_SIGNATURE_LEN_RANGE) return false;
    throw e;
  }
}

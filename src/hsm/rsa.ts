import * as crypto from 'node:crypto';
import * as pkcs11 from 'pkcs11js';
import { aesKeyTemplate } from './aes';
import { HsmDataInvalidError, ckrOf } from './hsm-errors';
import { WrappingAlgorithm } from './key-store';
import { Handle, Pkcs11 } from './token';

/** RSA family: the wrapping key pairs of imported material, and unwrapping into AES keys, inside the token. */

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

/**
 * Every usage flag is set explicitly (SoftHSM defaults unset ones to TRUE): the private key
 * can only unwrap; the public key is a session object, read once for its SPKI and destroyed.
 */
function pairTemplates(id: Buffer, label: string, persistent: boolean): { pub: pkcs11.Template; priv: pkcs11.Template } {
  const off = (...types: number[]): pkcs11.Template => types.map((type) => ({ type, value: false }));
  return {
    pub: [
      { type: pkcs11.CKA_CLASS, value: pkcs11.CKO_PUBLIC_KEY },
      { type: pkcs11.CKA_KEY_TYPE, value: pkcs11.CKK_RSA },
      { type: pkcs11.CKA_TOKEN, value: false },
      { type: pkcs11.CKA_PRIVATE, value: false },
      { type: pkcs11.CKA_MODULUS_BITS, value: WRAPPING_KEY_BITS },
      { type: pkcs11.CKA_PUBLIC_EXPONENT, value: Buffer.from([1, 0, 1]) },
      ...off(pkcs11.CKA_ENCRYPT, pkcs11.CKA_WRAP, pkcs11.CKA_VERIFY, pkcs11.CKA_VERIFY_RECOVER, pkcs11.CKA_DERIVE),
    ],
    priv: [
      { type: pkcs11.CKA_CLASS, value: pkcs11.CKO_PRIVATE_KEY },
      { type: pkcs11.CKA_KEY_TYPE, value: pkcs11.CKK_RSA },
      { type: pkcs11.CKA_ID, value: id },
      { type: pkcs11.CKA_LABEL, value: label },
      { type: pkcs11.CKA_TOKEN, value: persistent },
      { type: pkcs11.CKA_PRIVATE, value: true },
      { type: pkcs11.CKA_SENSITIVE, value: true },
      { type: pkcs11.CKA_EXTRACTABLE, value: false },
      { type: pkcs11.CKA_UNWRAP, value: true },
      ...off(pkcs11.CKA_DECRYPT, pkcs11.CKA_SIGN, pkcs11.CKA_SIGN_RECOVER, pkcs11.CKA_DERIVE, pkcs11.CKA_MODIFIABLE),
    ],
  };
}

/** An RSA-2048 unwrap-only private key named `id`; returns its handle and the public key as SPKI DER. */
export function generateWrappingKey(m: Pkcs11, s: Handle, id: Buffer, label: string, persistent: boolean): { privateKey: Handle; spki: Buffer } {
  const { pub, priv } = pairTemplates(id, label, persistent);
  const pair = m.C_GenerateKeyPair(s, { mechanism: pkcs11.CKM_RSA_PKCS_KEY_PAIR_GEN }, pub, priv);
  try {
    const [n, e] = m.C_GetAttributeValue(s, pair.publicKey, [{ type: pkcs11.CKA_MODULUS }, { type: pkcs11.CKA_PUBLIC_EXPONENT }]);
    const jwk = { kty: 'RSA', n: (n.value as Buffer).toString('base64url'), e: (e.value as Buffer).toString('base64url') };
    return { privateKey: pair.privateKey, spki: crypto.createPublicKey({ key: jwk, format: 'jwk' }).export({ type: 'spki', format: 'der' }) };
  } catch (err) {
    m.C_DestroyObject(s, pair.privateKey);
    throw err;
  } finally {
    m.C_DestroyObject(s, pair.publicKey);
  }
}

/**
 * aesKeyTemplate for a session key made by C_UnwrapKey. Without CKA_VALUE_LEN: the length
 * comes from the unwrapped data, and SoftHSM refuses the attribute (CKR_ATTRIBUTE_READ_ONLY).
 * Modifiable, because SoftHSM 2.6 refuses to copy a non-modifiable object to the token
 * (CKR_ATTRIBUTE_READ_ONLY); the token copy is not modifiable (`copyToToken`).
 */
function aesUnwrapTemplate(id: Buffer, label: string): pkcs11.Template {
  return aesKeyTemplate(id, label, 32)
    .filter((a) => a.type !== pkcs11.CKA_VALUE_LEN)
    .map((a) => (a.type === pkcs11.CKA_TOKEN ? { type: a.type, value: false } : a.type === pkcs11.CKA_MODIFIABLE ? { type: a.type, value: true } : a));
}

/**
 * Decrypts `wrapped` inside the token straight into a new AES session key (gone with the
 * session, nothing persistent); undecryptable input raises HsmDataInvalidError.
 */
export function unwrapAesKey(m: Pkcs11, s: Handle, unwrappingKey: Handle, algorithm: WrappingAlgorithm, wrapped: Buffer, id: Buffer, label: string): Handle {
  try {
    return m.C_UnwrapKey(s, ALGORITHMS[algorithm].mechanism, unwrappingKey, wrapped, aesUnwrapTemplate(id, label));
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

/**
 * A token object copied from a session key made by `unwrapAesKey`, with its CKA_ID and label,
 * not modifiable. SoftHSM 2.6 takes CKA_MODIFIABLE false only after CKA_TOKEN.
 */
export function copyToToken(m: Pkcs11, s: Handle, sessionKey: Handle): Handle {
  return m.C_CopyObject(s, sessionKey, [
    { type: pkcs11.CKA_TOKEN, value: true },
    { type: pkcs11.CKA_MODIFIABLE, value: false },
  ]);
}

/**
 * Whether the token really unwraps with `algorithm` (mechanism lists overclaim: SoftHSM lists
 * OAEP but refuses SHA-256 with CKR_ARGUMENTS_BAD). A throwaway session pair, a random key
 * encrypted on the host as a client would, unwrapped into a session key. Throws when the
 * token refuses, so that the caller's session is discarded.
 */
export function probeUnwrap(m: Pkcs11, s: Handle, algorithm: WrappingAlgorithm): void {
  const id = Buffer.from('kms-probe');
  const { privateKey, spki } = generateWrappingKey(m, s, id, 'kms probe', false);
  try {
    const { padding, oaepHash } = ALGORITHMS[algorithm];
    const wrapped = crypto.publicEncrypt({ key: crypto.createPublicKey({ key: spki, format: 'der', type: 'spki' }), padding, oaepHash }, crypto.randomBytes(32));
    m.C_DestroyObject(s, unwrapAesKey(m, s, privateKey, algorithm, wrapped, id, 'kms probe'));
  } finally {
    m.C_DestroyObject(s, privateKey);
  }
}

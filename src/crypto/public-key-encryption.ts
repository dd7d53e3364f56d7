import * as crypto from 'node:crypto';
import { sm2 } from 'sm-crypto-v2';
import { InvalidParameterError } from '../common/domain-errors';
import { Spki, parseSpkiPem } from './spki';

/**
 * EncryptionPublicKey / EncryptionAlgorithm of Decrypt and GenerateDataKey: the Plaintext
 * answered is encrypted to the caller's public key. These are public-key operations on the
 * caller's own key, so they run here rather than in the token; the plaintext goes back to the
 * caller either way.
 */
const ENCRYPTION_ALGORITHMS = ['SM2', 'SM2_C1C3C2_ASN1', 'RSAES_PKCS1_V1_5', 'RSAES_OAEP_SHA_1', 'RSAES_OAEP_SHA_256'] as const;
type EncryptionAlgorithm = (typeof ENCRYPTION_ALGORITHMS)[number];
type Sm2Algorithm = 'SM2' | 'SM2_C1C3C2_ASN1';
type RsaAlgorithm = Exclude<EncryptionAlgorithm, Sm2Algorithm>;

/** As documented: an empty EncryptionAlgorithm means SM2. */
const DEFAULT_ALGORITHM = 'SM2';
/** An RSA-2048 SPKI PEM is about 450 characters, an SM2 one about 180. */
const MAX_PEM_CHARS = 4096;
const KEY = 'encryptionPublicKey';

const RSA_ENCRYPTION = Buffer.from('2a864886f70d010101', 'hex'); // 1.2.840.113549.1.1.1
const EC_PUBLIC_KEY = Buffer.from('2a8648ce3d0201', 'hex'); // 1.2.840.10045.2.1
const SM2_OID = Buffer.from('2a811ccf5501822d', 'hex'); // 1.2.156.10197.1.301
const SM2_CURVE_TLV = Buffer.concat([Buffer.from([0x06, SM2_OID.length]), SM2_OID]);
const DER_NULL = Buffer.from('0500', 'hex');
/** sm-crypto-v2's cipherMode for C1||C3||C2 (0 would be the older C1||C2||C3). */
const C1C3C2 = 1;

const RSA_BYTES = 256;
/** Padding, OAEP hash, and the bytes the padding takes from the 256-byte block (RFC 8017: 11, or 2 + 2 x hash length). */
const RSA_SCHEMES: Record<RsaAlgorithm, { padding: number; oaepHash?: string; overhead: number }> = {
  RSAES_PKCS1_V1_5: { padding: crypto.constants.RSA_PKCS1_PADDING, overhead: 11 },
  RSAES_OAEP_SHA_1: { padding: crypto.constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha1', overhead: 2 + 2 * 20 },
  RSAES_OAEP_SHA_256: { padding: crypto.constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256', overhead: 2 + 2 * 32 },
};

export interface RecipientKey {
  /** Throws InvalidParameterError when `bytes` of plaintext are more than the key and algorithm can take. */
  assertFits(bytes: number): void;
  encrypt(plaintext: Buffer): Buffer;
}

/** The caller's key, checked against the algorithm; undefined without a key (Plaintext is then answered as is). */
export function recipientKey(pem: string | undefined, algorithm: string | undefined): RecipientKey | undefined {
  if (algorithm && !(ENCRYPTION_ALGORITHMS as readonly string[]).includes(algorithm)) {
    throw new InvalidParameterError('encryptionAlgorithm', (n) => `${n('encryptionAlgorithm')} must be one of ${ENCRYPTION_ALGORITHMS.join(', ')}`);
  }
  if (!pem) return undefined;
  if (pem.length > MAX_PEM_CHARS) throw new InvalidParameterError(KEY, (n) => `${n(KEY)} is longer than ${MAX_PEM_CHARS} characters`);
  const spki = parseSpkiPem(pem, KEY);
  const kind = isSm2Key(spki) ? 'SM2' : spki.algorithm.equals(RSA_ENCRYPTION) ? 'RSA' : undefined;
  if (!kind) throw new InvalidParameterError(KEY, (n) => `${n(KEY)} must be an RSA-2048 or SM2 public key`);
  const alg = (algorithm || DEFAULT_ALGORITHM) as EncryptionAlgorithm;
  if (isSm2Algorithm(alg)) {
    if (kind === 'SM2') return sm2Recipient(spki, alg);
    throw new InvalidParameterError(KEY, (n) => (algorithm ? `${n('encryptionAlgorithm')} ${alg} needs an SM2 public key` : `${n('encryptionAlgorithm')} defaults to SM2; for an RSA key name one of ${Object.keys(RSA_SCHEMES).join(', ')}`));
  }
  if (kind === 'RSA') return rsaRecipient(spki, alg);
  throw new InvalidParameterError(KEY, (n) => `${n('encryptionAlgorithm')} ${alg} needs an RSA public key`);
}

const isSm2Algorithm = (alg: EncryptionAlgorithm): alg is Sm2Algorithm => alg === 'SM2' || alg === 'SM2_C1C3C2_ASN1';

function isSm2Key(spki: Spki): boolean {
  if (spki.algorithm.equals(EC_PUBLIC_KEY)) return spki.parameters?.equals(SM2_CURVE_TLV) ?? false;
  // Some GM/T tools name the SM2 OID as the algorithm itself.
  return spki.algorithm.equals(SM2_OID) && (!spki.parameters || spki.parameters.equals(DER_NULL) || spki.parameters.equals(SM2_CURVE_TLV));
}

function sm2Recipient(spki: Spki, alg: Sm2Algorithm): RecipientKey {
  const point = spki.publicKey.toString('hex');
  if (!onSm2Curve(point)) throw new InvalidParameterError(KEY, (n) => `${n(KEY)} is not a point on the SM2 curve`);
  const asn1 = alg === 'SM2_C1C3C2_ASN1';
  return {
    assertFits: () => undefined,
    encrypt(plaintext) {
      const hex = sm2.doEncrypt(plaintext, point, C1C3C2, { asn1 });
      // The library's raw form leaves out C1's 0x04 (uncompressed point) prefix; GM/T 0003 keeps it.
      return Buffer.from(asn1 ? hex : '04' + hex, 'hex');
    },
  };
}

function onSm2Curve(pointHex: string): boolean {
  try {
    return sm2.verifyPublicKey(pointHex);
  } catch {
    return false; // not even a point encoding
  }
}

function rsaRecipient(spki: Spki, alg: RsaAlgorithm): RecipientKey {
  let key: crypto.KeyObject;
  try {
    key = crypto.createPublicKey({ key: spki.der, format: 'der', type: 'spki' });
  } catch {
    throw new InvalidParameterError(KEY, (n) => `${n(KEY)} is not a valid RSA public key`);
  }
  const bits = key.asymmetricKeyDetails?.modulusLength;
  if (bits !== RSA_BYTES * 8) throw new InvalidParameterError(KEY, (n) => `${n(KEY)} is a ${bits}-bit RSA key; only RSA-2048 keys are supported`);
  const { padding, oaepHash, overhead } = RSA_SCHEMES[alg];
  const max = RSA_BYTES - overhead;
  const assertFits = (bytes: number) => {
    if (bytes > max) throw new InvalidParameterError(KEY, `${alg} with an RSA-2048 key encrypts at most ${max} bytes; the plaintext has ${bytes}`);
  };
  return {
    assertFits,
    encrypt(plaintext) {
      assertFits(plaintext.length);
      return crypto.publicEncrypt({ key, padding, oaepHash }, plaintext);
    },
  };
}

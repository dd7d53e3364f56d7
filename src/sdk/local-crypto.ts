import * as crypto from 'node:crypto';
import { sm2, sm4 } from 'sm-crypto-v2';
import { EncryptSDKError, invalidParameter } from './errors';

/**
 * The seed's local ("原生") helpers with caller-held keys: SM2 (sm-crypto-v2), SM3 and SM4
 * CBC/CTR/ECB (Node's OpenSSL), SM4-GCM (sm-crypto-v2). Public keys are the seed's 64 bytes
 * (x || y), private keys 32 bytes; signatures and SM2 ciphertexts are DER (GM/T 0009), with
 * the default signer ID 1234567812345678. CBC and ECB pad with PKCS#7, CTR does not.
 */

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const pub = (k: Uint8Array): string => {
  if (k?.length !== 64) throw invalidParameter('an SM2 public key is 64 bytes (x || y)');
  return `04${hex(k)}`;
};
const priv = (k: Uint8Array): string => {
  if (k?.length !== 32) throw invalidParameter('an SM2 private key is 32 bytes');
  return hex(k);
};
const sm4Key = (k: Uint8Array, iv?: Uint8Array, ivBytes = 16): void => {
  if (k?.length !== 16) throw invalidParameter('an SM4 key is 16 bytes');
  if (iv !== undefined && iv.length !== ivBytes) throw invalidParameter(`the IV must be ${ivBytes} bytes`);
};
function local<T>(code: 'LocalEncryptError' | 'LocalDecryptError', fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof EncryptSDKError) throw e;
    throw new EncryptSDKError(code, (e as Error).message);
  }
}

export function sm2GetKey(): { publicKey: Buffer; privateKey: Buffer } {
  const k = sm2.generateKeyPairHex();
  return { publicKey: Buffer.from(k.publicKey.slice(2), 'hex'), privateKey: Buffer.from(k.privateKey.padStart(64, '0'), 'hex') };
}

export const sm2Sign = (publicKey: Uint8Array, privateKey: Uint8Array, msg: Uint8Array): Buffer =>
  local('LocalEncryptError', () => Buffer.from(sm2.doSignature(msg, priv(privateKey), { hash: true, der: true, publicKey: pub(publicKey) }), 'hex'));

export const sm2Verify = (publicKey: Uint8Array, msg: Uint8Array, sig: Uint8Array): boolean => {
  const key = pub(publicKey);
  try {
    return sm2.doVerifySignature(msg, hex(sig), key, { hash: true, der: true });
  } catch {
    return false;
  }
};

/** SM3(Z || msg), Z from the public key and the signer ID (GM/T 0009's default when absent). */
export const hashForSm3WithSm2 = (msg: Uint8Array, publicKey: Uint8Array, id = '1234567812345678'): Buffer => Buffer.from(sm2.getHash(msg, pub(publicKey), id), 'hex');

export const sm2SignWithDigest = (publicKey: Uint8Array, privateKey: Uint8Array, digest: Uint8Array): Buffer =>
  local('LocalEncryptError', () => Buffer.from(sm2.doSignature(Uint8Array.from(digest), priv(privateKey), { hash: false, der: true, publicKey: pub(publicKey) }), 'hex'));

export const sm2VerifyWithDigest = (publicKey: Uint8Array, sig: Uint8Array, digest: Uint8Array): boolean => {
  const key = pub(publicKey);
  try {
    return sm2.doVerifySignature(Uint8Array.from(digest), hex(sig), key, { hash: false, der: true });
  } catch {
    return false;
  }
};

/** C1 || C3 || C2 in the ASN.1 form of GM/T 0009 (what OpenSSL writes). */
export const sm2Encrypt = (publicKey: Uint8Array, source: Uint8Array): Buffer => local('LocalEncryptError', () => Buffer.from(sm2.doEncrypt(source, pub(publicKey), 1, { asn1: true }), 'hex'));

export const sm2Decrypt = (privateKey: Uint8Array, source: Uint8Array): Buffer =>
  local('LocalDecryptError', () => {
    const out = sm2.doDecrypt(hex(source), priv(privateKey), 1, { output: 'array', asn1: true });
    if (!out || (out.length === 0 && source.length > 97)) throw new Error('the SM2 ciphertext does not decrypt');
    return Buffer.from(out);
  });

/** The 64-byte public key of an SM2 SubjectPublicKeyInfo PEM. */
export function sm2PemChangeToPubkey(pem: string | Buffer): Buffer {
  let der: Buffer;
  try {
    der = crypto.createPublicKey(pem).export({ type: 'spki', format: 'der' });
  } catch (e) {
    throw invalidParameter(`not a public key PEM: ${(e as Error).message}`);
  }
  const point = der.subarray(der.length - 65);
  if (point[0] !== 0x04) throw invalidParameter('not an uncompressed EC public key');
  return Buffer.from(point.subarray(1));
}

export const sm3Digest = (data: Uint8Array): Buffer => crypto.createHash('sm3').update(data).digest();
export const sm3Hmac = (data: Uint8Array, key: Uint8Array): Buffer => crypto.createHmac('sm3', key).update(data).digest();

function nodeSm4(mode: 'cbc' | 'ctr' | 'ecb', encrypting: boolean, data: Uint8Array, key: Uint8Array, iv: Uint8Array | null): Buffer {
  sm4Key(key, iv ?? undefined);
  return local(encrypting ? 'LocalEncryptError' : 'LocalDecryptError', () => {
    const c = encrypting ? crypto.createCipheriv(`sm4-${mode}`, key, iv) : crypto.createDecipheriv(`sm4-${mode}`, key, iv);
    return Buffer.concat([c.update(data), c.final()]);
  });
}

export const sm4CbcEncrypt = (source: Uint8Array, key: Uint8Array, iv: Uint8Array): Buffer => nodeSm4('cbc', true, source, key, iv);
export const sm4CbcDecrypt = (source: Uint8Array, key: Uint8Array, iv: Uint8Array): Buffer => nodeSm4('cbc', false, source, key, iv);
export const sm4CtrEncrypt = (source: Uint8Array, key: Uint8Array, iv: Uint8Array): Buffer => nodeSm4('ctr', true, source, key, iv);
export const sm4CtrDecrypt = (source: Uint8Array, key: Uint8Array, iv: Uint8Array): Buffer => nodeSm4('ctr', false, source, key, iv);
export const sm4EcbEncrypt = (source: Uint8Array, key: Uint8Array): Buffer => nodeSm4('ecb', true, source, key, null);
export const sm4EcbDecrypt = (source: Uint8Array, key: Uint8Array): Buffer => nodeSm4('ecb', false, source, key, null);

/** SM4-GCM with a 16-byte tag; the IV may be any non-empty length (12 bytes is GCM's own). */
export function sm4GcmEncrypt(source: Uint8Array, key: Uint8Array, iv: Uint8Array, aad: Uint8Array = new Uint8Array(0)): { ciphertext: Buffer; tag: Buffer } {
  sm4Key(key);
  if (!iv?.length) throw invalidParameter('the IV must not be empty');
  return local('LocalEncryptError', () => {
    const r = sm4.encrypt(source, key, { mode: 'gcm', iv, associatedData: aad, output: 'array', outputTag: true });
    return { ciphertext: Buffer.from(r.output), tag: Buffer.from(r.tag!) };
  });
}

export function sm4GcmDecrypt(source: Uint8Array, key: Uint8Array, iv: Uint8Array, aad: Uint8Array, tag: Uint8Array): Buffer {
  sm4Key(key);
  if (!iv?.length) throw invalidParameter('the IV must not be empty');
  if (tag?.length !== 16) throw invalidParameter('the GCM tag must be 16 bytes');
  return local('LocalDecryptError', () => Buffer.from(sm4.decrypt(source, key, { mode: 'gcm', iv, associatedData: aad, tag, output: 'array' })));
}

import * as crypto from 'node:crypto';
import { wipe } from '../common/wipe';

/**
 * An SM2 key pair made from bytes of the token's generator (GB/T 32918.1-2016, 6.1): the
 * private key d is drawn uniformly from [1, n-2] as FIPS 186-4 B.4.1 draws an EC key, from 64
 * bits more than n has, so that the reduction's bias is below 2^-64; the public key is d*G,
 * computed by OpenSSL's SM2 curve through node:crypto.
 */

/** The order n of the SM2 curve's base point (GB/T 32918.5-2017). */
const N = BigInt('0xFFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFF7203DF6B21C6052B53BBF40939D54123');
const SCALAR_BYTES = 32;
/** 256 + 64 bits of random input per key. */
export const SM2_SEED_BYTES = SCALAR_BYTES + 8;

/** id-ecPublicKey with the SM2 curve (1.2.156.10197.1.301), as OpenSSL writes SM2 keys. */
const ALGORITHM = Buffer.from('301306072a8648ce3d020106082a811ccf5501822d', 'hex');
/** PrivateKeyInfo { version 0, algorithm, OCTET STRING { ECPrivateKey { version 1, d, [1] publicKey } } } (RFC 5208, RFC 5915). */
const PKCS8_HEAD = Buffer.concat([Buffer.from('308187020100', 'hex'), ALGORITHM, Buffer.from('046d306b0201010420', 'hex')]);
const PKCS8_POINT = Buffer.from('a144034200', 'hex');
/** SubjectPublicKeyInfo { algorithm, BIT STRING point } (RFC 5480). */
const SPKI_HEAD = Buffer.concat([Buffer.from('3059', 'hex'), ALGORITHM, Buffer.from('034200', 'hex')]);

export interface Sm2KeyPair {
  /** PKCS#8 PEM, as OpenSSL writes it: 64-character lines and a final newline. The caller wipes it. */
  privatePem: Buffer;
  /** SubjectPublicKeyInfo PEM. */
  publicPem: string;
}

/** `seed` is SM2_SEED_BYTES from the token's generator; it is wiped here. */
export function sm2KeyPair(seed: Buffer): Sm2KeyPair {
  if (seed.length !== SM2_SEED_BYTES) throw new Error(`an SM2 key needs ${SM2_SEED_BYTES} random bytes, got ${seed.length}`);
  const d = Buffer.from(((BigInt('0x' + seed.toString('hex')) % (N - 2n)) + 1n).toString(16).padStart(SCALAR_BYTES * 2, '0'), 'hex');
  wipe(seed);
  const ecdh = crypto.createECDH('SM2');
  let der: Buffer | undefined;
  try {
    ecdh.setPrivateKey(d);
    const point = ecdh.getPublicKey(); // 04 || x || y, 65 bytes
    der = Buffer.concat([PKCS8_HEAD, d, PKCS8_POINT, point]);
    return { privatePem: pem('PRIVATE KEY', der), publicPem: pem('PUBLIC KEY', Buffer.concat([SPKI_HEAD, point])).toString('latin1') };
  } finally {
    wipe(d, der);
  }
}

function pem(label: string, der: Buffer): Buffer {
  const body = der.toString('base64').replace(/.{64}/g, '$&\n').replace(/\n$/, '');
  return Buffer.from(`-----BEGIN ${label}-----\n${body}\n-----END ${label}-----\n`, 'latin1');
}

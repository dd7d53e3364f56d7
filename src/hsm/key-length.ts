import * as crypto from 'node:crypto';
import * as pkcs11 from 'pkcs11js';
import { Handle, Pkcs11 } from './token';

/**
 * Whether a secret key the token will not reveal is `bytes` long. Tokens report CKA_VALUE_LEN,
 * except that SoftHSM 2.6 leaves it 0 on unwrapped keys (SoftHSMv2 issue #628). Then the
 * length is measured with digests the token computes over the key (C_DigestKey): SHA-256 of
 * salt || key, and SHA-256 of salt || key followed by the padding SHA-256 would append to a
 * key of `bytes` bytes and a suffix. The host extends the first digest by the suffix (SHA-256
 * length extension); the two agree only if the key is `bytes` long. Only salted digests,
 * fresh each call, leave the token: nothing that could later be matched against the key.
 */
export function keyHasLength(m: Pkcs11, s: Handle, key: Handle, bytes: number): boolean {
  const [len] = m.C_GetAttributeValue(s, key, [{ type: pkcs11.CKA_VALUE_LEN }]);
  const reported = (len.value as Buffer).readUIntLE(0, Math.min((len.value as Buffer).length, 6));
  if (reported !== 0) return reported === bytes;
  const salt = crypto.randomBytes(32);
  const digest = (after: Buffer | null): Buffer => {
    m.C_DigestInit(s, { mechanism: pkcs11.CKM_SHA256 });
    m.C_DigestUpdate(s, salt);
    m.C_DigestKey(s, key);
    if (after) m.C_DigestUpdate(s, after);
    return m.C_DigestFinal(s, Buffer.alloc(32));
  };
  const prefix = salt.length + bytes;
  const glue = padding(prefix);
  return digest(Buffer.concat([glue, SUFFIX])).equals(sha256Extend(digest(null), prefix + glue.length, SUFFIX));
}

const SUFFIX = Buffer.from('kms key length');

/** SHA-256's padding of a message of `n` bytes. */
function padding(n: number): Buffer {
  const zeros = (((55 - n) % 64) + 64) % 64;
  const p = Buffer.alloc(1 + zeros + 8);
  p[0] = 0x80;
  p.writeBigUInt64BE(BigInt(n) * 8n, 1 + zeros);
  return p;
}

/** SHA-256 round constants (FIPS 180-4). */
const K = [
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
  0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
  0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
];

/** SHA-256 of (a message of `prefixBytes` bytes, already padded, whose digest is `digest`) followed by `tail`. */
function sha256Extend(digest: Buffer, prefixBytes: number, tail: Buffer): Buffer {
  const h = Array.from({ length: 8 }, (_, i) => digest.readUInt32BE(i * 4));
  const msg = Buffer.concat([tail, padding(prefixBytes + tail.length)]);
  const rotr = (x: number, n: number) => (x >>> n) | (x << (32 - n));
  const w = new Array<number>(64);
  for (let off = 0; off < msg.length; off += 64) {
    for (let i = 0; i < 16; i++) w[i] = msg.readUInt32BE(off + i * 4);
    for (let i = 16; i < 64; i++) {
      const s0 = rotr(w[i - 15], 7) ^ rotr(w[i - 15], 18) ^ (w[i - 15] >>> 3);
      const s1 = rotr(w[i - 2], 17) ^ rotr(w[i - 2], 19) ^ (w[i - 2] >>> 10);
      w[i] = (w[i - 16] + s0 + w[i - 7] + s1) | 0;
    }
    let [a, b, c, d, e, f, g, hh] = h;
    for (let i = 0; i < 64; i++) {
      const t1 = (hh + (rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)) + ((e & f) ^ (~e & g)) + K[i] + w[i]) | 0;
      const t2 = ((rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)) + ((a & b) ^ (a & c) ^ (b & c))) | 0;
      [hh, g, f, e, d, c, b, a] = [g, f, e, (d + t1) | 0, c, b, a, (t1 + t2) | 0];
    }
    [a, b, c, d, e, f, g, hh].forEach((v, i) => (h[i] = (h[i] + v) | 0));
  }
  const out = Buffer.alloc(32);
  h.forEach((v, i) => out.writeUInt32BE(v >>> 0, i * 4));
  return out;
}

import * as crypto from 'node:crypto';

/**
 * SM2 encodings, pure byte work shared by the token code and the core: the signer's Z value
 * and the digest e (GB/T 32918.2-2016, 5.5 and 6.1), signatures as r || s or DER, and
 * ciphertexts as C1 || C3 || C2, C1 || C2 || C3 or the GM/T 0009 ASN.1 SEQUENCE.
 */

/** The default signer ID of GM/T 0009 (and of sm-crypto-v2; OpenSSL 3.0 needs `-sigopt distid:` for it). */
export const DEFAULT_SM2_ID = Buffer.from('1234567812345678', 'latin1');
const COORD = 32;
/** 04 || x || y */
export const SM2_POINT_BYTES = 1 + 2 * COORD;
const SM3_BYTES = 32;

/** The curve's a, b, xG, yG (GB/T 32918.5-2017), as they enter Z. */
const CURVE = Buffer.from(
  'FFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF00000000FFFFFFFFFFFFFFFC' +
    '28E9FA9E9D9F5E344D5A9E4BCF6509A7F39789F515AB8F92DDBCBD414D940E93' +
    '32C4AE2C1F1981195F9904466A39C9948FE30BBFF2660BE1715A4589334C74C7' +
    'BC3736A2F4F6779C59BDCEE36B692153D0A9877CC62A474002DF32E52139F0A0',
  'hex',
);

/** e = SM3(Z || M), Z = SM3(ENTL || ID || a || b || xG || yG || xA || yA); `point` is the signer's public key, 04 || x || y. */
export function sm2Digest(point: Buffer, message: Buffer, id: Buffer = DEFAULT_SM2_ID): Buffer {
  const entl = Buffer.alloc(2);
  entl.writeUInt16BE(id.length * 8);
  const z = crypto.createHash('sm3').update(entl).update(id).update(CURVE).update(point.subarray(1)).digest();
  return crypto.createHash('sm3').update(z).update(message).digest();
}

export class Sm2EncodingError extends Error {}

interface Tlv {
  tag: number;
  value: Buffer;
  end: number;
}
function readTlv(der: Buffer, at: number): Tlv {
  if (at + 2 > der.length) throw new Sm2EncodingError('truncated DER');
  let length = der[at + 1];
  let start = at + 2;
  if (length & 0x80) {
    const n = length & 0x7f;
    if (n === 0 || n > 2 || start + n > der.length) throw new Sm2EncodingError('bad DER length');
    length = der.readUIntBE(start, n);
    start += n;
  }
  if (start + length > der.length) throw new Sm2EncodingError('truncated DER');
  return { tag: der[at], value: der.subarray(start, start + length), end: start + length };
}
function derLength(n: number): Buffer {
  return Buffer.from(n < 0x80 ? [n] : n < 0x100 ? [0x81, n] : [0x82, n >> 8, n & 0xff]);
}
const tlv = (tag: number, value: Buffer) => Buffer.concat([Buffer.from([tag]), derLength(value.length), value]);
function derInteger(unsigned: Buffer): Buffer {
  let i = 0;
  while (i < unsigned.length - 1 && unsigned[i] === 0) i++;
  const v = unsigned.subarray(i);
  return tlv(0x02, v[0] & 0x80 ? Buffer.concat([Buffer.from([0]), v]) : v);
}
/** A non-negative DER INTEGER as `bytes` big-endian bytes. */
function fixedInteger(t: Tlv, bytes: number): Buffer {
  if (t.tag !== 0x02 || t.value.length === 0 || t.value[0] & 0x80) throw new Sm2EncodingError('not a non-negative INTEGER');
  let v = t.value;
  if (v.length > 1 && v[0] === 0) v = v.subarray(1);
  if (v.length > bytes) throw new Sm2EncodingError(`an INTEGER longer than ${bytes} bytes`);
  return Buffer.concat([Buffer.alloc(bytes - v.length), v]);
}

/** r || s (64 bytes) -> SEQUENCE { r INTEGER, s INTEGER }. */
export function signatureToDer(raw: Buffer): Buffer {
  if (raw.length !== 2 * COORD) throw new Sm2EncodingError(`a raw SM2 signature is ${2 * COORD} bytes`);
  return tlv(0x30, Buffer.concat([derInteger(raw.subarray(0, COORD)), derInteger(raw.subarray(COORD))]));
}

/** SEQUENCE { r, s } -> r || s. */
export function signatureToRaw(der: Buffer): Buffer {
  const seq = readTlv(der, 0);
  if (seq.tag !== 0x30 || seq.end !== der.length) throw new Sm2EncodingError('not one SEQUENCE');
  const r = readTlv(seq.value, 0);
  const s = readTlv(seq.value, r.end);
  if (s.end !== seq.value.length) throw new Sm2EncodingError('extra bytes in the signature');
  return Buffer.concat([fixedInteger(r, COORD), fixedInteger(s, COORD)]);
}

/** An SM2 ciphertext's parts: C1 = 04 || x || y, C3 = SM3 hash, C2 = the encrypted message. */
export interface Sm2Ciphertext {
  c1: Buffer;
  c3: Buffer;
  c2: Buffer;
}
export type Sm2CiphertextFormat = 'c1c3c2' | 'c1c2c3' | 'der';

/** Reads C1 || C3 || C2 (starting 04) or the GM/T 0009 SEQUENCE { x, y, C3, C2 } (starting 30). */
export function parseSm2Ciphertext(b: Buffer): Sm2Ciphertext {
  if (b[0] === 0x04) {
    if (b.length < SM2_POINT_BYTES + SM3_BYTES + 1) throw new Sm2EncodingError('too short for C1 || C3 || C2');
    return { c1: b.subarray(0, SM2_POINT_BYTES), c3: b.subarray(SM2_POINT_BYTES, SM2_POINT_BYTES + SM3_BYTES), c2: b.subarray(SM2_POINT_BYTES + SM3_BYTES) };
  }
  const seq = readTlv(b, 0);
  if (seq.tag !== 0x30 || seq.end !== b.length) throw new Sm2EncodingError('neither C1 || C3 || C2 nor one SEQUENCE');
  const x = readTlv(seq.value, 0);
  const y = readTlv(seq.value, x.end);
  const c3 = readTlv(seq.value, y.end);
  const c2 = readTlv(seq.value, c3.end);
  if (c3.tag !== 0x04 || c2.tag !== 0x04 || c3.value.length !== SM3_BYTES || c2.value.length === 0 || c2.end !== seq.value.length) throw new Sm2EncodingError('not SEQUENCE { INTEGER, INTEGER, OCTET STRING (32), OCTET STRING }');
  return { c1: Buffer.concat([Buffer.from([0x04]), fixedInteger(x, COORD), fixedInteger(y, COORD)]), c3: c3.value, c2: c2.value };
}

export function encodeSm2Ciphertext(c: Sm2Ciphertext, format: Sm2CiphertextFormat): Buffer {
  if (format === 'c1c3c2') return Buffer.concat([c.c1, c.c3, c.c2]);
  if (format === 'c1c2c3') return Buffer.concat([c.c1, c.c2, c.c3]);
  return tlv(0x30, Buffer.concat([derInteger(c.c1.subarray(1, 1 + COORD)), derInteger(c.c1.subarray(1 + COORD)), tlv(0x04, c.c3), tlv(0x04, c.c2)]));
}

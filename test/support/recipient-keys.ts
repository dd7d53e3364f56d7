import { execFileSync } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { sm2 } from 'sm-crypto-v2';

/**
 * Callers' key pairs for EncryptionPublicKey, and the private-key side that opens what the
 * service answered: node:crypto for RSA-OAEP, OpenSSL for RSA PKCS#1 v1.5 (Node 20 refuses
 * that padding in privateDecrypt since CVE-2023-46809) and for SM2 as an implementation
 * independent of the service's, and sm-crypto-v2 for SM2 as well.
 */

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kms-recipient-'));
let files = 0;
function tempFile(text: string): string {
  const f = path.join(dir, `k${files++}.pem`);
  fs.writeFileSync(f, text, { mode: 0o600 });
  return f;
}

export const spkiPem = (der: Buffer): string => `-----BEGIN PUBLIC KEY-----\n${der.toString('base64').replace(/.{64}/g, '$&\n')}\n-----END PUBLIC KEY-----\n`;

export interface RsaPair {
  publicPem: string;
  privateKey: crypto.KeyObject;
}
export function rsaPair(bits = 2048): RsaPair {
  const { publicKey, privateKey } = crypto.generateKeyPairSync('rsa', { modulusLength: bits });
  return { publicPem: publicKey.export({ type: 'spki', format: 'pem' }) as string, privateKey };
}

export function rsaOaepDecrypt(pair: RsaPair, hash: 'sha1' | 'sha256', data: Buffer): Buffer {
  return crypto.privateDecrypt({ key: pair.privateKey, padding: crypto.constants.RSA_PKCS1_OAEP_PADDING, oaepHash: hash }, data);
}

export function rsaPkcs1Decrypt(pair: RsaPair, data: Buffer): Buffer {
  const key = tempFile(pair.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string);
  return execFileSync('openssl', ['pkeyutl', '-decrypt', '-inkey', key, '-pkeyopt', 'rsa_padding_mode:pkcs1'], { input: data });
}

/** SubjectPublicKeyInfo prefixes before the 65-byte point: id-ecPublicKey with the SM2 curve, or the SM2 OID as the algorithm. */
const SM2_EC_SPKI_PREFIX = Buffer.from('3059301306072a8648ce3d020106082a811ccf5501822d034200', 'hex');
const SM2_OID_SPKI_PREFIX = Buffer.from('3052300c06082a811ccf5501822d0500034200', 'hex');

export interface Sm2Pair {
  publicPem: string;
  /** The SPKI with the SM2 OID as the algorithm itself (another encoding some tools write). */
  publicPemSm2Oid: string;
  /** 04 || x || y, hex */
  point: string;
  privateHex: string;
}
export function sm2Pair(): Sm2Pair {
  const k = sm2.generateKeyPairHex();
  const point = Buffer.from(k.publicKey, 'hex');
  return {
    publicPem: spkiPem(Buffer.concat([SM2_EC_SPKI_PREFIX, point])),
    publicPemSm2Oid: spkiPem(Buffer.concat([SM2_OID_SPKI_PREFIX, point])),
    point: k.publicKey,
    privateHex: k.privateKey,
  };
}

/** Raw C1C3C2: 04 || x || y || C3 (32) || C2, opened with sm-crypto-v2 (which expects C1 without its 04). */
export function sm2RawDecrypt(pair: Sm2Pair, data: Buffer): Buffer {
  if (data[0] !== 0x04) throw new Error('C1 does not start with 04');
  return Buffer.from(sm2.doDecrypt(data.subarray(1).toString('hex'), pair.privateHex, 1, { output: 'array' }));
}

export function sm2Asn1Decrypt(pair: Sm2Pair, data: Buffer): Buffer {
  return Buffer.from(sm2.doDecrypt(data.toString('hex'), pair.privateHex, 1, { output: 'array', asn1: true }));
}

/** An SM2 pair made by OpenSSL, whose pkeyutl opens the GM/T 0009 ASN.1 form. */
export interface OpensslSm2Pair {
  publicPem: string;
  privateFile: string;
}
export function opensslSm2Pair(): OpensslSm2Pair {
  const privateFile = path.join(dir, `sm2-${files++}.pem`);
  execFileSync('openssl', ['genpkey', '-algorithm', 'SM2', '-out', privateFile]);
  const publicPem = execFileSync('openssl', ['pkey', '-in', privateFile, '-pubout']).toString();
  return { publicPem, privateFile };
}
export function opensslSm2Decrypt(pair: OpensslSm2Pair, asn1: Buffer): Buffer {
  return execFileSync('openssl', ['pkeyutl', '-decrypt', '-inkey', pair.privateFile], { input: asn1 });
}

/** A minimal DER reader for the test's own check of the ASN.1 form. */
function tlv(der: Buffer, at: number): { tag: number; value: Buffer; end: number } {
  let len = der[at + 1];
  let start = at + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    len = der.readUIntBE(start, n);
    start += n;
  }
  return { tag: der[at], value: der.subarray(start, start + len), end: start + len };
}
const derLength = (n: number): number[] => (n < 0x80 ? [n] : n < 0x100 ? [0x81, n] : [0x82, n >> 8, n & 0xff]);
const encode = (tag: number, value: Buffer): Buffer => Buffer.concat([Buffer.from([tag, ...derLength(value.length)]), value]);
function derInteger(unsigned: Buffer): Buffer {
  let i = 0;
  while (i < unsigned.length - 1 && unsigned[i] === 0) i++;
  const v = unsigned.subarray(i);
  return encode(0x02, v[0] & 0x80 ? Buffer.concat([Buffer.from([0]), v]) : v);
}

/** SEQUENCE { x INTEGER, y INTEGER, C3 OCTET STRING, C2 OCTET STRING } -> its four fields; throws if the structure differs. */
export function sm2Asn1Fields(der: Buffer): { x: Buffer; y: Buffer; c3: Buffer; c2: Buffer } {
  const seq = tlv(der, 0);
  if (seq.tag !== 0x30 || seq.end !== der.length) throw new Error('not one SEQUENCE');
  const x = tlv(seq.value, 0);
  const y = tlv(seq.value, x.end);
  const c3 = tlv(seq.value, y.end);
  const c2 = tlv(seq.value, c3.end);
  if (x.tag !== 0x02 || y.tag !== 0x02 || c3.tag !== 0x04 || c2.tag !== 0x04 || c2.end !== seq.value.length) throw new Error('not INTEGER, INTEGER, OCTET STRING, OCTET STRING');
  return { x: x.value, y: y.value, c3: c3.value, c2: c2.value };
}

/** The raw C1C3C2 form re-encoded as GM/T 0009 ASN.1, so that OpenSSL can open it too. */
export function sm2RawToAsn1(raw: Buffer): Buffer {
  const x = raw.subarray(1, 33);
  const y = raw.subarray(33, 65);
  const c3 = raw.subarray(65, 97);
  const c2 = raw.subarray(97);
  return encode(0x30, Buffer.concat([derInteger(x), derInteger(y), encode(0x04, c3), encode(0x04, c2)]));
}

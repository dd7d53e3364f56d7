import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { sm2 } from 'sm-crypto-v2';
import { Sm2EncodingError, encodeSm2Ciphertext, parseSm2Ciphertext, signatureToDer, signatureToRaw, sm2Digest } from '../../src/hsm/sm2-encoding';

/** SM2 encodings, against OpenSSL and sm-crypto-v2 as independent implementations. */

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kms-sm2-enc-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
const keyFile = path.join(dir, 'k.pem');
execFileSync('openssl', ['genpkey', '-algorithm', 'SM2', '-out', keyFile]);
const spki = execFileSync('openssl', ['pkey', '-in', keyFile, '-pubout', '-outform', 'DER']);
const point = spki.subarray(spki.length - 65);
const pubFile = path.join(dir, 'p.pem');
execFileSync('openssl', ['pkey', '-in', keyFile, '-pubout', '-out', pubFile]);
const message = Buffer.from('a message for SM2');
const msgFile = path.join(dir, 'm');
fs.writeFileSync(msgFile, message);

it('computes e = SM3(Z || M) with the default ID, as OpenSSL signs with distid 1234567812345678', () => {
  const der = execFileSync('openssl', ['dgst', '-sm3', '-sign', keyFile, '-sigopt', 'distid:1234567812345678', msgFile]);
  const raw = signatureToRaw(der);
  expect(raw).toHaveLength(64);
  const e = sm2Digest(point, message);
  // sm-crypto-v2 verifies the raw signature over e itself (no hashing of its own).
  expect(sm2.doVerifySignature(e, raw.toString('hex'), point.toString('hex'), { hash: false, der: false })).toBe(true);
  expect(sm2.doVerifySignature(sm2Digest(point, Buffer.from('another')), raw.toString('hex'), point.toString('hex'), { hash: false, der: false })).toBe(false);
  expect(signatureToDer(raw).equals(der)).toBe(true);
});

it('turns a raw signature made over e into DER that OpenSSL verifies against the message', () => {
  const priv = execFileSync('openssl', ['pkey', '-in', keyFile, '-text', '-noout']).toString();
  const d = priv.split('priv:')[1].split('pub:')[0].replace(/[\s:]/g, '').padStart(64, '0');
  for (let i = 0; i < 8; i++) {
    // Short r or s (leading zero bytes) and high bits (a DER 00 prefix) both occur over several signatures.
    const raw = Buffer.from(sm2.doSignature(sm2Digest(point, message), d, { hash: false, der: false }), 'hex');
    const sigFile = path.join(dir, `s${i}`);
    fs.writeFileSync(sigFile, signatureToDer(raw));
    expect(execFileSync('openssl', ['dgst', '-sm3', '-verify', pubFile, '-sigopt', 'distid:1234567812345678', '-signature', sigFile, msgFile]).toString()).toMatch(/Verified OK/);
  }
});

it('reads OpenSSL ciphertexts and writes each form', () => {
  const asn1 = execFileSync('openssl', ['pkeyutl', '-encrypt', '-pubin', '-inkey', pubFile, '-in', msgFile]);
  const parts = parseSm2Ciphertext(asn1);
  expect(encodeSm2Ciphertext(parts, 'der').equals(asn1)).toBe(true);
  const d = execFileSync('openssl', ['pkey', '-in', keyFile, '-text', '-noout']).toString().split('priv:')[1].split('pub:')[0].replace(/[\s:]/g, '').padStart(64, '0');
  const open = (b: Buffer, mode: 0 | 1) => Buffer.from(sm2.doDecrypt(b.subarray(1).toString('hex'), d, mode, { output: 'array' }));
  const c1c3c2 = encodeSm2Ciphertext(parts, 'c1c3c2');
  expect(open(c1c3c2, 1).equals(message)).toBe(true);
  expect(open(encodeSm2Ciphertext(parts, 'c1c2c3'), 0).equals(message)).toBe(true);
  expect(encodeSm2Ciphertext(parseSm2Ciphertext(c1c3c2), 'der').equals(asn1)).toBe(true);
});

it.each([
  ['an empty buffer', Buffer.alloc(0)],
  ['a C1 || C3 || C2 with no C2', Buffer.concat([Buffer.from([4]), Buffer.alloc(64 + 32)])],
  ['a SEQUENCE with a short C3', Buffer.from('300c020101020101040100040100', 'hex')],
  ['a SEQUENCE with trailing bytes', Buffer.from('3000ff', 'hex')],
  ['a negative coordinate', Buffer.from('302a0201ff020101' + '0420' + '00'.repeat(32) + '040101', 'hex')],
  ['neither form', Buffer.from('05000000', 'hex')],
])('refuses %s as a ciphertext', (_what, b) => {
  expect(() => parseSm2Ciphertext(b)).toThrow(Sm2EncodingError);
});

it.each([
  ['a raw signature of the wrong length', () => signatureToDer(Buffer.alloc(63))],
  ['a DER signature with trailing bytes', () => signatureToRaw(Buffer.from('3006020101020101ff', 'hex'))],
  ['a DER signature with an extra INTEGER', () => signatureToRaw(Buffer.from('3009020101020101020101', 'hex'))],
  ['a DER signature with a 33-byte r', () => signatureToRaw(Buffer.concat([Buffer.from('3026022101', 'hex'), Buffer.alloc(32, 1), Buffer.from('020101', 'hex')]))],
  ['a DER length of three bytes', () => signatureToRaw(Buffer.from('3083000006020101020101', 'hex'))],
])('refuses %s', (_what, f) => {
  expect(f).toThrow(Sm2EncodingError);
});

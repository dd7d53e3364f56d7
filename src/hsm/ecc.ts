import * as crypto from 'node:crypto';
import * as pkcs11 from 'pkcs11js';
import { HsmDataInvalidError, HsmMechanismError } from './hsm-errors';
import { PROBE_ID, ProbePair, TemplateAdapter, asIs, generatePair, off, privateKeyTemplate, publicKeyTemplate } from './key-pair';
import { SHA256_BYTES, verifyWith } from './rsa';
import { Handle, Pkcs11 } from './token';

/** Elliptic curves (NIST P-256): signing key pairs and ECDSA, inside the token. */

/** CKA_EC_PARAMS of P-256: the DER of its OID, 1.2.840.10045.3.1.7. */
const P256_PARAMS = Buffer.from('06082a8648ce3d030107', 'hex');
const COORD_BYTES = 32;

/** A P-256 pair whose private key, named `id`, can only sign; returns its handle and the public key as SPKI DER. */
export async function generateEcPair(m: Pkcs11, s: Handle, id: Buffer, label: string, persistent: boolean, adapt: TemplateAdapter = asIs): Promise<{ privateKey: Handle; spki: Buffer }> {
  const pub = publicKeyTemplate(pkcs11.CKK_EC, [
    { type: pkcs11.CKA_EC_PARAMS, value: P256_PARAMS },
    ...off(pkcs11.CKA_ENCRYPT, pkcs11.CKA_WRAP, pkcs11.CKA_VERIFY, pkcs11.CKA_VERIFY_RECOVER, pkcs11.CKA_DERIVE),
  ]);
  const priv = adapt(privateKeyTemplate(pkcs11.CKK_EC, id, label, persistent, pkcs11.CKA_SIGN));
  const { privateKey, publicKey } = await generatePair(m, s, pkcs11.CKM_EC_KEY_PAIR_GEN, pub, priv, (handle) => {
    const [point] = m.C_GetAttributeValue(s, handle, [{ type: pkcs11.CKA_EC_POINT }]);
    // CKA_EC_POINT is the uncompressed point 04 || x || y inside a DER OCTET STRING (04 41 ...).
    const raw = (point.value as Buffer).subarray(-(1 + 2 * COORD_BYTES));
    if (raw[0] !== 0x04) throw new HsmMechanismError('the token answered a compressed or malformed EC point');
    const jwk = { kty: 'EC', crv: 'P-256', x: raw.subarray(1, 1 + COORD_BYTES).toString('base64url'), y: raw.subarray(1 + COORD_BYTES).toString('base64url') };
    return crypto.createPublicKey({ key: jwk, format: 'jwk' }).export({ type: 'spki', format: 'der' });
  });
  return { privateKey, spki: publicKey };
}

/** DER INTEGER of an unsigned big-endian number. */
function derInteger(n: Buffer): Buffer {
  let i = 0;
  while (i < n.length - 1 && n[i] === 0) i++;
  let v = n.subarray(i);
  if (v[0] & 0x80) v = Buffer.concat([Buffer.from([0]), v]);
  return Buffer.concat([Buffer.from([0x02, v.length]), v]);
}

/** CKM_ECDSA answers r || s; OpenSSL and Node read ECDSA-Sig-Value, SEQUENCE { r, s } in DER (at most 72 bytes for P-256: short lengths). */
export function rawToDer(raw: Buffer): Buffer {
  const body = Buffer.concat([derInteger(raw.subarray(0, raw.length / 2)), derInteger(raw.subarray(raw.length / 2))]);
  return Buffer.concat([Buffer.from([0x30, body.length]), body]);
}

/** ECDSA of a SHA-256 digest (CKM_ECDSA signs only a digest), as DER. */
export function ecdsaSign(m: Pkcs11, s: Handle, key: Handle, digest: Buffer): Buffer {
  if (digest.length !== SHA256_BYTES) throw new HsmDataInvalidError(`a SHA-256 digest is ${SHA256_BYTES} bytes`);
  m.C_SignInit(s, { mechanism: pkcs11.CKM_ECDSA }, key);
  return rawToDer(Buffer.from(m.C_Sign(s, digest, Buffer.alloc(2 * COORD_BYTES))));
}

/** A P-256 session pair that can only sign, for probes. */
export function ecProbePair(m: Pkcs11, s: Handle): Promise<ProbePair> {
  return generateEcPair(m, s, PROBE_ID, 'kms probe', false);
}

/** Whether the token signs P-256 ECDSA, under a probe pair, as Node verifies it. Throws when not. */
export function probeEcdsa(m: Pkcs11, s: Handle, pair: ProbePair): void {
  const data = crypto.randomBytes(32);
  const sig = ecdsaSign(m, s, pair.privateKey, crypto.createHash('sha256').update(data).digest());
  if (!crypto.verify('sha256', data, crypto.createPublicKey({ key: pair.spki, format: 'der', type: 'spki' }), sig)) throw new HsmMechanismError('ECDSA signs wrongly');
}

/** r || s from a DER ECDSA-Sig-Value of P-256, or null when it is not one (strict DER, short lengths). */
export function derToRaw(der: Buffer): Buffer | null {
  if (der.length < 8 || der[0] !== 0x30 || der[1] !== der.length - 2) return null;
  const out: Buffer[] = [];
  let i = 2;
  for (let k = 0; k < 2; k++) {
    if (der[i] !== 0x02 || i + 2 > der.length) return null;
    const len = der[i + 1];
    const v = der.subarray(i + 2, i + 2 + len);
    if (len < 1 || v.length !== len || len > COORD_BYTES + 1) return null;
    const n = v[0] === 0 && len > 1 ? v.subarray(1) : v;
    if (n.length > COORD_BYTES) return null;
    out.push(Buffer.concat([Buffer.alloc(COORD_BYTES - n.length), n]));
    i += 2 + len;
  }
  return i === der.length ? Buffer.concat(out) : null;
}

/** Whether the DER `signature` is an ECDSA signature of `digest` under the P-256 public key `spki`, checked by the token. */
export function ecdsaVerify(m: Pkcs11, s: Handle, spki: Buffer, digest: Buffer, signature: Buffer): boolean {
  const raw = derToRaw(signature);
  if (!raw || digest.length !== SHA256_BYTES) return false;
  const jwk = crypto.createPublicKey({ key: spki, format: 'der', type: 'spki' }).export({ format: 'jwk' });
  const point = Buffer.concat([Buffer.from([0x04]), Buffer.from(jwk.x!, 'base64url'), Buffer.from(jwk.y!, 'base64url')]);
  const key = m.C_CreateObject(s, [
    { type: pkcs11.CKA_CLASS, value: pkcs11.CKO_PUBLIC_KEY },
    { type: pkcs11.CKA_KEY_TYPE, value: pkcs11.CKK_EC },
    { type: pkcs11.CKA_TOKEN, value: false },
    { type: pkcs11.CKA_VERIFY, value: true },
    { type: pkcs11.CKA_EC_PARAMS, value: P256_PARAMS },
    // CKA_EC_POINT: the point inside a DER OCTET STRING.
    { type: pkcs11.CKA_EC_POINT, value: Buffer.concat([Buffer.from([0x04, point.length]), point]) },
  ]);
  try {
    return verifyWith(m, s, { mechanism: pkcs11.CKM_ECDSA }, key, digest, raw);
  } finally {
    m.C_DestroyObject(s, key);
  }
}

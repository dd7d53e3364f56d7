import { InvalidParameterError } from '../common/domain-errors';
import { STRICT_BASE64 } from '../common/base64';

/**
 * A PEM SubjectPublicKeyInfo (RFC 5280), split into its parts. Node's KeyObject cannot be
 * asked which curve an SM2 key is on (OpenSSL 3 decodes it as its own key type, which Node
 * reports as undefined), so the few fields needed are read here with a minimal DER walk.
 */
export interface Spki {
  der: Buffer;
  /** DER contents of the algorithm OID. */
  algorithm: Buffer;
  /** The AlgorithmIdentifier's parameters as a whole TLV, if present. */
  parameters?: Buffer;
  /** The BIT STRING's bits (for EC keys, the encoded point). */
  publicKey: Buffer;
}

const PEM = /^-----BEGIN PUBLIC KEY-----([A-Za-z0-9+/=\s]*)-----END PUBLIC KEY-----$/;
const SEQUENCE = 0x30;
const BIT_STRING = 0x03;
const OID = 0x06;

interface Tlv {
  tag: number;
  value: Buffer;
  end: number;
}

function readTlv(der: Buffer, at: number, field: string): Tlv {
  if (at + 2 > der.length) throw malformed(field);
  const tag = der[at];
  let length = der[at + 1];
  let start = at + 2;
  if (length & 0x80) {
    // Long form; indefinite lengths (0x80) are not DER and public keys are far below 16 MB.
    const n = length & 0x7f;
    if (n === 0 || n > 3 || start + n > der.length) throw malformed(field);
    length = der.readUIntBE(start, n);
    start += n;
  }
  if (start + length > der.length) throw malformed(field);
  return { tag, value: der.subarray(start, start + length), end: start + length };
}

const malformed = (field: string) => new InvalidParameterError(field, (n) => `${n(field)} is not a valid DER SubjectPublicKeyInfo`);

/** Reads `-----BEGIN PUBLIC KEY-----` PEM text; whitespace inside the base64 body (line breaks or spaces) is ignored. */
export function parseSpkiPem(pem: string, field: string): Spki {
  const m = PEM.exec(pem.trim());
  const body = m?.[1].replace(/\s+/g, '') ?? '';
  if (!m || body === '' || !STRICT_BASE64.test(body)) throw new InvalidParameterError(field, (n) => `${n(field)} must be a PEM public key (-----BEGIN PUBLIC KEY----- ... -----END PUBLIC KEY-----)`);
  const der = Buffer.from(body, 'base64');
  const outer = readTlv(der, 0, field);
  if (outer.tag !== SEQUENCE || outer.end !== der.length) throw malformed(field);
  const algId = readTlv(outer.value, 0, field);
  const bits = readTlv(outer.value, algId.end, field);
  if (algId.tag !== SEQUENCE || bits.tag !== BIT_STRING || bits.end !== outer.value.length) throw malformed(field);
  const oid = readTlv(algId.value, 0, field);
  if (oid.tag !== OID) throw malformed(field);
  let parameters: Buffer | undefined;
  if (oid.end < algId.value.length) {
    const p = readTlv(algId.value, oid.end, field);
    if (p.end !== algId.value.length) throw malformed(field);
    parameters = algId.value.subarray(oid.end, p.end);
  }
  if (bits.value.length < 2 || bits.value[0] !== 0) throw malformed(field);
  return { der, algorithm: oid.value, parameters, publicKey: bits.value.subarray(1) };
}

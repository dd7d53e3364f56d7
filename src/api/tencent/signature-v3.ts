import * as crypto from 'node:crypto';

/** TC3-HMAC-SHA256 (signature v3), as the seed's "接口签名v3" describes it. */

export interface Tc3Authorization {
  secretId: string;
  date: string;
  service: string;
  signedHeaders: string[];
  signature: Buffer;
}

const AUTH_RE = /^TC3-HMAC-SHA256 Credential=([^/\s,]+)\/(\d{4}-\d{2}-\d{2})\/([^/\s,]+)\/tc3_request, ?SignedHeaders=([a-z0-9;_-]+), ?Signature=([0-9a-f]{64})$/;

export function parseTc3Authorization(header: string): Tc3Authorization | null {
  const m = AUTH_RE.exec(header.trim());
  if (!m) return null;
  return { secretId: m[1], date: m[2], service: m[3], signedHeaders: m[4].split(';'), signature: Buffer.from(m[5], 'hex') };
}

/** The last day formatted: every request asks, and nearly all name the same day (1 % of a worker's CPU). */
let lastDay = NaN;
let lastDate = '';

export function utcDate(timestamp: number): string {
  const day = Math.floor(timestamp / 86_400);
  if (day !== lastDay) {
    lastDate = new Date(day * 86_400_000).toISOString().slice(0, 10);
    lastDay = day;
  }
  return lastDate;
}

const hmac = (key: Buffer | string, msg: string): Buffer => crypto.createHmac('sha256', key).update(msg).digest();
// One-shot: a Hash object per call cost about twice as much for inputs this small.
const sha256hex = (data: Buffer | string): string => crypto.hash('sha256', data, 'hex');

/** Derives the signing key; cached by callers per (SecretId, date, service). */
export function tc3SigningKey(secretKey: string, date: string, service: string): Buffer {
  return hmac(hmac(hmac('TC3' + secretKey, date), service), 'tc3_request');
}

export interface Tc3Input {
  method: string;
  path: string;
  rawQuery: string;
  /** lower-case name -> value, for the headers named in SignedHeaders */
  canonicalHeaders: string;
  signedHeaders: string;
  payload: Buffer;
  timestamp: string;
  date: string;
  service: string;
}

export function tc3Signature(signingKey: Buffer, i: Tc3Input, payloadHash = sha256hex(i.payload)): Buffer {
  const canonicalRequest = `${i.method}\n${i.path}\n${i.rawQuery}\n${i.canonicalHeaders}\n${i.signedHeaders}\n${payloadHash}`;
  const stringToSign = `TC3-HMAC-SHA256\n${i.timestamp}\n${i.date}/${i.service}/tc3_request\n${sha256hex(canonicalRequest)}`;
  return hmac(signingKey, stringToSign);
}

export { sha256hex };

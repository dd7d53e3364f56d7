import * as crypto from 'node:crypto';

/**
 * TC3-HMAC-SHA256, written from the Tencent description (the same algorithm as
 * src/api/tencent/signature-v3.ts, kept separate so a bug there cannot hide here). Signs the
 * way tencentcloud-sdk-nodejs does: SignedHeaders content-type;host, `host` signed as the
 * hostname without port, service = first label of the endpoint ("127" for 127.0.0.1:PORT).
 */

const SIGNED_HEADERS = 'content-type;host';
/** What a client signs that binds the signature to the action and region (the service then claims nothing). */
const BOUND_SIGNED_HEADERS = 'content-type;host;x-tc-action;x-tc-region';
const AUTH_RE = /^TC3-HMAC-SHA256 Credential=([^/\s,]+)\/(\d{4}-\d{2}-\d{2})\/([^/\s,]+)\/tc3_request, ?SignedHeaders=([a-z0-9;_-]+), ?Signature=([0-9a-f]{64})$/;
export const MAX_CLOCK_SKEW_SECONDS = 300;

const hmac = (key: Buffer | string, msg: string): Buffer => crypto.createHmac('sha256', key).update(msg).digest();
const sha256hex = (data: Buffer | string): string => crypto.createHash('sha256').update(data).digest('hex');
const utcDate = (ts: number): string => new Date(ts * 1000).toISOString().slice(0, 10);

export function signingKey(secretKey: string, date: string, service: string): Buffer {
  return hmac(hmac(hmac('TC3' + secretKey, date), service), 'tc3_request');
}

interface Canonical {
  method: string;
  path: string;
  query: string;
  contentType: string;
  host: string;
  payload: Buffer | string;
  timestamp: number;
  service: string;
  /** Also signs X-TC-Action and X-TC-Region, with these values. */
  bound?: { action: string; region: string };
}

function signature(key: Buffer, c: Canonical): Buffer {
  // Header values lower-cased, as the document says.
  const bound = c.bound ? `x-tc-action:${c.bound.action.toLowerCase()}\nx-tc-region:${c.bound.region.toLowerCase()}\n` : '';
  const canonicalRequest = `${c.method}\n${c.path}\n${c.query}\ncontent-type:${c.contentType}\nhost:${c.host}\n${bound}\n${c.bound ? BOUND_SIGNED_HEADERS : SIGNED_HEADERS}\n${sha256hex(c.payload)}`;
  const stringToSign = `TC3-HMAC-SHA256\n${c.timestamp}\n${utcDate(c.timestamp)}/${c.service}/tc3_request\n${sha256hex(canonicalRequest)}`;
  return hmac(key, stringToSign);
}

export interface SignInput {
  secretId: string;
  secretKey: string;
  /** host:port as in the URL */
  endpoint: string;
  action: string;
  version: string;
  region: string;
  body: string;
  timestamp?: number;
  /** Also sign X-TC-Action and X-TC-Region (the SDK signs content-type and host only). */
  bindAction?: boolean;
}

/** The headers of a signed TC3 JSON POST to `/`, Host included. */
export function signPost(i: SignInput): Record<string, string> {
  const timestamp = i.timestamp ?? Math.floor(Date.now() / 1000);
  const host = i.endpoint.replace(/:\d+$/, '');
  const service = i.endpoint.split('.')[0];
  const contentType = 'application/json';
  const date = utcDate(timestamp);
  const bound = i.bindAction ? { action: i.action, region: i.region } : undefined;
  const sig = signature(signingKey(i.secretKey, date, service), { method: 'POST', path: '/', query: '', contentType, host, payload: i.body, timestamp, service, bound });
  return {
    'Content-Type': contentType,
    Host: i.endpoint,
    'X-TC-Action': i.action,
    'X-TC-Version': i.version,
    'X-TC-Region': i.region,
    'X-TC-Timestamp': String(timestamp),
    Authorization: `TC3-HMAC-SHA256 Credential=${i.secretId}/${date}/${service}/tc3_request, SignedHeaders=${bound ? BOUND_SIGNED_HEADERS : SIGNED_HEADERS}, Signature=${sig.toString('hex')}`,
  };
}

export interface VerifyInput {
  method: string;
  url: string;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
  nowSeconds: number;
  secretKeyOf: (secretId: string) => string | undefined;
  /** cache of derived signing keys, by "secretId date service" */
  keys: Map<string, Buffer>;
}

/** Verifies a TC3 request signed as signPost signs; returns the SecretId or an error text. */
export function verify(i: VerifyInput): { secretId: string } | { error: string } {
  const one = (name: string): string => {
    const v = i.headers[name];
    return (Array.isArray(v) ? v[0] : v) ?? '';
  };
  const m = AUTH_RE.exec(one('authorization'));
  if (!m) return { error: 'malformed Authorization' };
  const [, secretId, date, service, signedHeaders, sigHex] = m;
  if (signedHeaders !== SIGNED_HEADERS) return { error: `SignedHeaders must be ${SIGNED_HEADERS}` };
  const raw = one('x-tc-timestamp');
  const timestamp = Number(raw);
  if (!/^\d{1,12}$/.test(raw) || Math.abs(i.nowSeconds - timestamp) > MAX_CLOCK_SKEW_SECONDS) return { error: 'bad or expired X-TC-Timestamp' };
  if (utcDate(timestamp) !== date) return { error: 'credential date is not the timestamp date' };
  const secretKey = i.secretKeyOf(secretId);
  if (secretKey === undefined) return { error: 'unknown SecretId' };
  const cacheKey = `${secretId} ${date} ${service}`;
  let key = i.keys.get(cacheKey);
  if (!key) i.keys.set(cacheKey, (key = signingKey(secretKey, date, service)));
  const q = i.url.indexOf('?');
  const expected = signature(key, {
    method: i.method,
    path: q < 0 ? i.url : i.url.slice(0, q),
    query: q < 0 ? '' : i.url.slice(q + 1),
    contentType: one('content-type').trim(),
    host: one('host').trim().replace(/:\d+$/, ''),
    payload: i.body,
    timestamp,
    service,
  });
  const given = Buffer.from(sigHex, 'hex');
  return crypto.timingSafeEqual(expected, given) ? { secretId } : { error: 'signature mismatch' };
}

import * as crypto from 'node:crypto';

/**
 * The request signature of docs/huks-protocol.md (KMS-HMAC-SHA256): the SecretId names the
 * credential, the SecretKey keys an HMAC over the canonical request, signed at the time in
 * X-Kms-Date. Written from the document alone: the client imports nothing of the service.
 */

export const SIGNING_ALGORITHM = 'KMS-HMAC-SHA256';
export const DATE_HEADER = 'X-Kms-Date';

const sha256hex = (data: string | Buffer): string => crypto.createHash('sha256').update(data).digest('hex');

/** RFC 3986: every byte but the unreserved characters is percent-encoded. */
const encodeSegment = (s: string): string => encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

export function canonicalUri(pathname: string): string {
  const segments = pathname.split('/').map((s) => encodeSegment(decodeURIComponent(s)));
  const joined = segments.join('/');
  return joined.endsWith('/') ? joined : `${joined}/`;
}

/** `20261130T053000Z`: UTC to the second. */
export const signingDate = (now: Date): string => now.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');

/** The Authorization value for a POST of `body` to `pathname` with exactly these headers signed (the date header among them). */
export function authorization(secretId: string, secretKey: string, pathname: string, headers: Readonly<Record<string, string>>, body: Buffer): string {
  const names = Object.keys(headers).map((h) => h.toLowerCase()).sort();
  const byName = new Map(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
  const canonicalHeaders = names.map((n) => `${n}:${byName.get(n)!.trim()}\n`).join('');
  const signedHeaders = names.join(';');
  const canonicalRequest = ['POST', canonicalUri(pathname), '', canonicalHeaders, signedHeaders, sha256hex(body)].join('\n');
  const stringToSign = [SIGNING_ALGORITHM, byName.get(DATE_HEADER.toLowerCase())!, sha256hex(canonicalRequest)].join('\n');
  const signature = crypto.createHmac('sha256', Buffer.from(secretKey, 'utf8')).update(stringToSign).digest('hex');
  return `${SIGNING_ALGORITHM} Access=${secretId}, SignedHeaders=${signedHeaders}, Signature=${signature}`;
}

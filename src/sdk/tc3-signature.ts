import * as crypto from 'node:crypto';

/**
 * TC3-HMAC-SHA256 as the seed's signature v3 document describes it, for a JSON POST to `/`.
 * The action and region are signed too (lower-cased, as canonical header values are), so a
 * signature cannot be replayed with another action or in another region.
 */

const sha256hex = (data: string | Buffer): string => crypto.createHash('sha256').update(data).digest('hex');
const hmac = (key: Buffer | string, msg: string): Buffer => crypto.createHmac('sha256', key).update(msg).digest();

export const API_VERSION = '2019-01-18';
const SERVICE = 'kms';

export interface Tc3Request {
  secretId: string;
  secretKey: string;
  /** The Host header: host[:port]. */
  host: string;
  action: string;
  region: string;
  body: Buffer;
  /** Seconds since the epoch. */
  timestamp: number;
}

/** Every header of the request but Content-Length. */
export function tc3Headers(r: Tc3Request): Record<string, string> {
  const date = new Date(r.timestamp * 1000).toISOString().slice(0, 10);
  const signed: Array<[string, string]> = [
    ['content-type', 'application/json'],
    ['host', r.host],
    ['x-tc-action', r.action],
    ['x-tc-region', r.region],
  ];
  const names = signed.map(([n]) => n).join(';');
  const canonicalHeaders = signed.map(([n, v]) => `${n}:${v.toLowerCase()}\n`).join('');
  const canonicalRequest = ['POST', '/', '', canonicalHeaders, names, sha256hex(r.body)].join('\n');
  const scope = `${date}/${SERVICE}/tc3_request`;
  const stringToSign = ['TC3-HMAC-SHA256', String(r.timestamp), scope, sha256hex(canonicalRequest)].join('\n');
  const key = hmac(hmac(hmac(`TC3${r.secretKey}`, date), SERVICE), 'tc3_request');
  const signature = crypto.createHmac('sha256', key).update(stringToSign).digest('hex');
  return {
    'Content-Type': 'application/json',
    Host: r.host,
    'X-TC-Action': r.action,
    'X-TC-Region': r.region,
    'X-TC-Version': API_VERSION,
    'X-TC-Timestamp': String(r.timestamp),
    Authorization: `TC3-HMAC-SHA256 Credential=${r.secretId}/${scope}, SignedHeaders=${names}, Signature=${signature}`,
  };
}

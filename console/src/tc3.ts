/**
 * TC3-HMAC-SHA256 request signing with WebCrypto. The SecretKey is imported once, at sign-in,
 * as a non-extractable HMAC key (the first step of the key derivation, keyed by "TC3" +
 * SecretKey); the string itself is not kept.
 */

const enc = new TextEncoder();

const hex = (b: ArrayBuffer): string => Array.from(new Uint8Array(b), (x) => x.toString(16).padStart(2, '0')).join('');

export async function sha256Hex(s: string): Promise<string> {
  return hex(await crypto.subtle.digest('SHA-256', enc.encode(s)));
}

const hmacKey = (raw: BufferSource, extractable = false): Promise<CryptoKey> => crypto.subtle.importKey('raw', raw, { name: 'HMAC', hash: 'SHA-256' }, extractable, ['sign']);

const sign = (key: CryptoKey, msg: string): Promise<ArrayBuffer> => crypto.subtle.sign('HMAC', key, enc.encode(msg));

/** The root of the signing-key derivation, from which the SecretKey cannot be read back. */
export function secretKeyRoot(secretKey: string): Promise<CryptoKey> {
  return hmacKey(enc.encode('TC3' + secretKey));
}

export interface SignInput {
  secretId: string;
  root: CryptoKey;
  /** The host as the browser sends it in Host (the service also accepts it without the port). */
  host: string;
  action: string;
  region: string;
  version: string;
  timestamp: number;
  body: string;
}

/**
 * The headers of a signed POST / with a JSON body. The credential scope names the service
 * `kms`, which the service accepts on any host. X-TC-Action and X-TC-Region are signed too, so
 * a signature authorizes exactly one action in one region (the service then keeps no record of
 * its first use).
 */
export async function signedHeaders(i: SignInput): Promise<Record<string, string>> {
  const date = new Date(i.timestamp * 1000).toISOString().slice(0, 10);
  const service = 'kms';
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    host: i.host,
    'x-tc-action': i.action,
    'x-tc-region': i.region,
    'x-tc-timestamp': String(i.timestamp),
    'x-tc-version': i.version,
  };
  const names = Object.keys(headers).sort();
  // The document's canonical form: names and values in lower case.
  const canonicalHeaders = names.map((n) => `${n}:${headers[n].trim().toLowerCase()}\n`).join('');
  const signed = names.join(';');
  const canonicalRequest = ['POST', '/', '', canonicalHeaders, signed, await sha256Hex(i.body)].join('\n');
  const scope = `${date}/${service}/tc3_request`;
  const stringToSign = ['TC3-HMAC-SHA256', String(i.timestamp), scope, await sha256Hex(canonicalRequest)].join('\n');
  const kDate = await sign(i.root, date);
  const kService = await sign(await hmacKey(kDate), service);
  const kSigning = await sign(await hmacKey(kService), 'tc3_request');
  const signature = hex(await sign(await hmacKey(kSigning), stringToSign));
  const out: Record<string, string> = {
    Authorization: `TC3-HMAC-SHA256 Credential=${i.secretId}/${scope}, SignedHeaders=${signed}, Signature=${signature}`,
    'Content-Type': headers['content-type'],
    'X-TC-Action': i.action,
    'X-TC-Region': i.region,
    'X-TC-Timestamp': headers['x-tc-timestamp'],
    'X-TC-Version': i.version,
  };
  return out;
}

import * as crypto from 'node:crypto';
import * as http from 'node:http';
import { Credential } from './kms-service';

/**
 * A test-side signer, written from the seed's signature documents independently of the
 * service's code, for requests the official SDK will not send (old timestamps, odd bodies).
 */

const hmac = (key: Buffer | string, msg: string) => crypto.createHmac('sha256', key).update(msg).digest();
const sha256 = (data: Buffer | string) => crypto.createHash('sha256').update(data).digest('hex');

export interface Tc3Options {
  action: string;
  body?: Buffer | string;
  method?: 'POST' | 'GET';
  query?: string;
  contentType?: string;
  region?: string | null;
  version?: string;
  timestamp?: number;
  service?: string;
  /** Override the credential scope date. */
  date?: string;
  /** Sent after signing, so they replace signed values: a tampered request. */
  extraHeaders?: Record<string, string>;
  /** Headers to sign besides content-type and host (lower-case names), with lower-cased values as the document says. */
  signHeaders?: string[];
  /** Sign those headers' values as sent rather than lower-cased, as some clients do. */
  valuesAsSent?: boolean;
}

export function signTc3(endpoint: string, cred: Pick<Credential, 'SecretId' | 'SecretKey'>, o: Tc3Options): { url: string; init: RequestInit } {
  const method = o.method ?? 'POST';
  const ts = o.timestamp ?? Math.floor(Date.now() / 1000);
  const date = o.date ?? new Date(ts * 1000).toISOString().slice(0, 10);
  const service = o.service ?? 'kms';
  const contentType = o.contentType ?? (method === 'GET' ? 'application/x-www-form-urlencoded' : 'application/json');
  const body = method === 'GET' ? '' : o.body ?? '{}';
  const host = endpoint.split(':')[0];
  const query = o.query ?? '';
  const headers: Record<string, string> = {
    'Content-Type': contentType,
    'X-TC-Action': o.action,
    'X-TC-Version': o.version ?? '2019-01-18',
    'X-TC-Timestamp': String(ts),
  };
  if (o.region !== null) headers['X-TC-Region'] = o.region ?? 'ap-guangzhou';
  const value = (name: string) => Object.entries(headers).find(([k]) => k.toLowerCase() === name)?.[1] ?? '';
  const signed = ['content-type', 'host', ...(o.signHeaders ?? [])].sort();
  const canonicalHeaders = signed.map((h) => (h === 'content-type' ? `${h}:${contentType}\n` : h === 'host' ? `${h}:${host}\n` : `${h}:${o.valuesAsSent ? value(h) : value(h).toLowerCase()}\n`)).join('');
  const canonical = [method, '/', query, canonicalHeaders, signed.join(';'), sha256(body)].join('\n');
  const scope = `${date}/${service}/tc3_request`;
  const toSign = ['TC3-HMAC-SHA256', String(ts), scope, sha256(canonical)].join('\n');
  const key = hmac(hmac(hmac('TC3' + cred.SecretKey, date), service), 'tc3_request');
  const signature = crypto.createHmac('sha256', key).update(toSign).digest('hex');
  headers.Authorization = `TC3-HMAC-SHA256 Credential=${cred.SecretId}/${scope}, SignedHeaders=${signed.join(';')}, Signature=${signature}`;
  Object.assign(headers, o.extraHeaders ?? {});
  return { url: `http://${endpoint}/${query ? '?' + query : ''}`, init: { method, headers, body: method === 'GET' ? undefined : body } };
}

export interface V1Options {
  method?: 'POST' | 'GET';
  /** Anything else is sent as given (and signed as HmacSHA1), for the refusal tests. */
  signatureMethod?: string;
  timestamp?: number;
  nonce?: number | string;
  /** Sign with the host without its port (the service accepts both). */
  params: Record<string, string | number>;
}

/** v1: sorted raw parameters, HMAC over METHOD + host:port + "/?" + query. */
export function signV1(endpoint: string, cred: Pick<Credential, 'SecretId' | 'SecretKey'>, o: V1Options): { url: string; init: RequestInit; encoded: string } {
  const method = o.method ?? 'POST';
  const all: Record<string, string> = {
    Nonce: String(o.nonce ?? crypto.randomInt(1, 2 ** 31)),
    Timestamp: String(o.timestamp ?? Math.floor(Date.now() / 1000)),
    SecretId: cred.SecretId,
    Version: '2019-01-18',
    Region: 'ap-guangzhou',
    ...(o.signatureMethod && o.signatureMethod !== 'HmacSHA1' ? { SignatureMethod: o.signatureMethod } : {}),
    ...Object.fromEntries(Object.entries(o.params).map(([k, v]) => [k, String(v)])),
  };
  const toSign = `${method}${endpoint}/?` + Object.keys(all).sort().map((k) => `${k}=${all[k]}`).join('&');
  all.Signature = crypto.createHmac(o.signatureMethod === 'HmacSHA256' ? 'sha256' : 'sha1', cred.SecretKey).update(toSign).digest('base64');
  const encoded = new URLSearchParams(all).toString();
  if (method === 'GET') return { url: `http://${endpoint}/?${encoded}`, init: { method }, encoded };
  return { url: `http://${endpoint}/`, init: { method, headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: encoded }, encoded };
}

export interface Answer {
  status: number;
  code?: string;
  body: Record<string, unknown>;
}

/**
 * Sends a request and returns the HTTP status, the error code (if any) and the Response object;
 * on a kept-alive connection (Node's default agent).
 */
export function send(req: { url: string; init: RequestInit }): Promise<Answer> {
  return exchange(req);
}

/**
 * Like send, on a new TCP connection each time (so a cluster spreads requests over workers),
 * optionally from another local address (any of 127.0.0.0/8 on Linux).
 */
export function sendFresh(req: { url: string; init: RequestInit }, localAddress?: string): Promise<Answer> {
  return exchange(req, false, localAddress);
}

// http.request rather than fetch: fetch's own work cost the client more CPU per request than
// generating and signing it (the fuzz test's profile).
function exchange(req: { url: string; init: RequestInit }, agent?: false, localAddress?: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const body = (req.init.body as string | Buffer | undefined) ?? '';
    const r = http.request(req.url, { method: req.init.method, headers: { ...(req.init.headers as Record<string, string>), 'Content-Length': Buffer.byteLength(body) }, agent, localAddress }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        let json: { Response?: { Error?: { Code: string } } & Record<string, unknown> } = {};
        try {
          json = JSON.parse(Buffer.concat(chunks).toString());
        } catch {
          /* non-JSON answer */
        }
        resolve({ status: res.statusCode ?? 0, code: json.Response?.Error?.Code, body: (json.Response ?? {}) as Record<string, unknown> });
      });
    });
    r.on('error', reject);
    r.end(body);
  });
}

/** The same signed request with another X-TC-Action header: what an attacker who captured it would send. */
export function withAction(req: { url: string; init: RequestInit }, action: string): { url: string; init: RequestInit } {
  return { url: req.url, init: { ...req.init, headers: { ...(req.init.headers as Record<string, string>), 'X-TC-Action': action } } };
}

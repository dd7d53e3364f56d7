import { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import { readBody } from './body-reader';
import { Params, unflatten } from './params';
import { TencentError } from './tencent-error';

/** What the face knows of a request before authentication. */
export interface TencentCall {
  style: 'tc3' | 'v1';
  method: 'GET' | 'POST';
  path: string;
  rawQuery: string;
  headers: IncomingHttpHeaders;
  /** The TCP peer's address. */
  address: string;
  /** The body, read within its limit when first asked: for TC3 only once the credential is known. */
  body(): Promise<Buffer>;
  action: string;
  version: string;
  region?: string;
  timestamp: string;
  /** The action's parameters; a TC3 JSON body is parsed only when first asked, after authentication. */
  readParams(): Params;
  /** v1 only: every parameter as sent, signature included. */
  v1Params?: Map<string, string>;
}

/** v1 common parameters: signed, but not parameters of any action. */
const V1_COMMON = new Set(['Action', 'Version', 'Region', 'Timestamp', 'Nonce', 'SecretId', 'Signature', 'SignatureMethod', 'Token', 'RequestClient', 'Language']);

/**
 * Request size limits, tighter than the 1 MB / 10 MB the Tencent document allows, because a
 * body is read before its signature can be checked. TC3 JSON: the largest valid request (a
 * CreateKey with 50 tags of the longest non-ASCII keys and values) is about 60 KB. v1 form:
 * the same request percent-encoded (each byte of a non-ASCII character becomes `%XX`) is
 * about 177 KB.
 */
const LIMITS = { get: 32 * 1024, v1Post: 192 * 1024, tc3Post: 64 * 1024 } as const;

function header(h: IncomingHttpHeaders, name: string): string | undefined {
  const v = h[name];
  return Array.isArray(v) ? v[0] : v;
}

function mediaType(h: IncomingHttpHeaders): string {
  return (header(h, 'content-type') ?? '').split(';')[0].trim().toLowerCase();
}

/** Parses `a=b&c=d` strictly (URL decoding with `+` as space); repeated names are an error. */
export function parseForm(raw: string): Map<string, string> {
  const out = new Map<string, string>();
  if (raw === '') return out;
  for (const pair of raw.split('&')) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    const k = eq < 0 ? pair : pair.slice(0, eq);
    const v = eq < 0 ? '' : pair.slice(eq + 1);
    let name: string;
    let value: string;
    try {
      name = decodeURIComponent(k.replace(/\+/g, ' '));
      value = decodeURIComponent(v.replace(/\+/g, ' '));
    } catch {
      throw new TencentError('InvalidParameter', 'the request carries malformed percent-encoding');
    }
    if (out.has(name)) throw new TencentError('InvalidParameter', `the parameter ${name} is given twice`);
    out.set(name, value);
  }
  return out;
}

const EMPTY: Buffer = Buffer.alloc(0);

/**
 * Parses what can be parsed without the body: everything for GET and TC3; a v1 POST carries
 * its parameters (SecretId included) in the body, which is read here within its limit.
 */
export async function readCall(req: IncomingMessage): Promise<TencentCall> {
  const method = req.method ?? '';
  if (method !== 'GET' && method !== 'POST') throw new TencentError('UnsupportedProtocol', `HTTP ${method} is not supported; use POST or GET`);
  const url = req.url ?? '/';
  if (method === 'GET' && url.length > LIMITS.get) throw new TencentError('InvalidParameter', `a GET request is limited to ${LIMITS.get / 1024} KB`);
  const q = url.indexOf('?');
  const path = q < 0 ? url : url.slice(0, q);
  const rawQuery = q < 0 ? '' : url.slice(q + 1);
  const headers = req.headers;
  const address = req.socket.remoteAddress ?? '';
  const auth = header(headers, 'authorization');
  const type = mediaType(headers);

  if (auth !== undefined) {
    let body: () => Promise<Buffer>;
    let readParams: () => Params;
    if (method === 'GET') {
      const params = new Params(unflatten(parseForm(rawQuery)), true);
      body = () => Promise.resolve(EMPTY);
      readParams = () => params;
    } else if (type === 'application/json') {
      // Read only for a known credential, parsed only for callers whose signature verified.
      let read: Promise<Buffer> | undefined;
      let bytes: Buffer | undefined;
      let params: Params | undefined;
      body = () => (read ??= readBody(req, LIMITS.tc3Post).then((b) => (bytes = b)));
      readParams = () => (params ??= new Params(parseJsonObject(bytes ?? EMPTY), false));
    } else if (type === 'multipart/form-data') {
      throw new TencentError('InvalidParameter', 'no action of this API accepts multipart/form-data; send application/json');
    } else {
      throw new TencentError('InvalidParameter', 'a TC3-HMAC-SHA256 POST must carry Content-Type: application/json');
    }
    return {
      style: 'tc3',
      method,
      path,
      rawQuery: method === 'GET' ? rawQuery : '',
      headers,
      address,
      body,
      action: required(header(headers, 'x-tc-action'), 'X-TC-Action'),
      version: required(header(headers, 'x-tc-version'), 'X-TC-Version'),
      region: header(headers, 'x-tc-region') || undefined,
      timestamp: required(header(headers, 'x-tc-timestamp'), 'X-TC-Timestamp'),
      readParams,
    };
  }

  let flat: Map<string, string>;
  let raw: Buffer = EMPTY;
  if (method === 'GET') flat = parseForm(rawQuery);
  else if (type === 'application/x-www-form-urlencoded') {
    if (rawQuery !== '') throw new TencentError('InvalidParameter', 'a v1 POST carries its parameters in the body only');
    raw = await readBody(req, LIMITS.v1Post);
    flat = parseForm(raw.toString('utf8'));
  } else if (type === 'application/json') throw new TencentError('AuthFailure.SignatureFailure', 'the request is not signed: a JSON body needs a TC3-HMAC-SHA256 Authorization header');
  else throw new TencentError('InvalidParameter', 'a v1 POST must carry Content-Type: application/x-www-form-urlencoded');
  if (!flat.has('Signature') && !flat.has('SecretId')) throw new TencentError('AuthFailure.SignatureFailure', 'the request is not signed');
  const params = new Params(unflatten(new Map([...flat].filter(([k]) => !V1_COMMON.has(k)))), true);
  return {
    style: 'v1',
    method,
    path,
    rawQuery,
    headers,
    address,
    body: () => Promise.resolve(raw),
    action: required(flat.get('Action'), 'Action'),
    version: required(flat.get('Version'), 'Version'),
    region: flat.get('Region') || undefined,
    timestamp: required(flat.get('Timestamp'), 'Timestamp'),
    readParams: () => params,
    v1Params: flat,
  };
}

function required(v: string | undefined, name: string): string {
  if (v === undefined || v === '') throw new TencentError('MissingParameter', `the common parameter ${name} is required`);
  return v;
}

function parseJsonObject(body: Buffer): Record<string, unknown> {
  if (body.length === 0) return Object.create(null);
  let v: unknown;
  try {
    v = JSON.parse(body.toString('utf8'));
  } catch {
    throw new TencentError('InvalidParameter', 'the request body is not valid JSON');
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new TencentError('InvalidParameter', 'the request body must be a JSON object');
  return v as Record<string, unknown>;
}

import { IncomingHttpHeaders } from 'node:http';
import { Params, unflatten } from './params';
import { TencentError } from './tencent-error';

/** What the face knows of a request once its body is read, before authentication. */
export interface TencentCall {
  style: 'tc3' | 'v1';
  method: 'GET' | 'POST';
  path: string;
  rawQuery: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
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

export const LIMITS = { get: 32 * 1024, v1Post: 1024 * 1024, tc3Post: 10 * 1024 * 1024 } as const;

function header(h: IncomingHttpHeaders, name: string): string | undefined {
  const v = h[name];
  return Array.isArray(v) ? v[0] : v;
}

export function mediaType(h: IncomingHttpHeaders): string {
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

export function parseCall(method: 'GET' | 'POST', url: string, headers: IncomingHttpHeaders, body: Buffer): TencentCall {
  const q = url.indexOf('?');
  const path = q < 0 ? url : url.slice(0, q);
  const rawQuery = q < 0 ? '' : url.slice(q + 1);
  const auth = header(headers, 'authorization');
  const type = mediaType(headers);

  if (auth !== undefined) {
    let readParams: () => Params;
    if (method === 'GET') {
      const params = new Params(unflatten(parseForm(rawQuery)), true);
      readParams = () => params;
    } else if (type === 'application/json') {
      // Up to 10 MB of JSON is parsed only for callers whose signature verified.
      let params: Params | undefined;
      readParams = () => (params ??= new Params(parseJsonObject(body), false));
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
      body,
      action: required(header(headers, 'x-tc-action'), 'X-TC-Action'),
      version: required(header(headers, 'x-tc-version'), 'X-TC-Version'),
      region: header(headers, 'x-tc-region') || undefined,
      timestamp: required(header(headers, 'x-tc-timestamp'), 'X-TC-Timestamp'),
      readParams,
    };
  }

  let flat: Map<string, string>;
  if (method === 'GET') flat = parseForm(rawQuery);
  else if (type === 'application/x-www-form-urlencoded') {
    if (rawQuery !== '') throw new TencentError('InvalidParameter', 'a v1 POST carries its parameters in the body only');
    flat = parseForm(body.toString('utf8'));
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
    body,
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

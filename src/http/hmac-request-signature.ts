import * as crypto from 'node:crypto';

/**
 * An AK/SK request signature over a canonical request, as the faces that sign with
 * HMAC-SHA256 build it; a scheme names the algorithm and the header that carries the signing
 * time, which are the only things that tell one face's signatures from another's.
 *
 * Every header the client signed is signed by name in lower case with its value as sent,
 * sorted; the path's segments are percent-encoded (RFC 3986 unreserved characters kept) and a
 * `/` appended; the query is sorted by name (repeated values sorted too); the payload hash is
 * SHA-256 hex of the body (or, where the scheme has a content-hash header, UNSIGNED-PAYLOAD
 * for a request without a body). The signature is HMAC-SHA256 keyed with the SK itself over
 * "<algorithm>\n<signing time>\n<hex SHA-256 of the canonical request>".
 */
export interface HmacScheme {
  /** The first word of Authorization and the first line of the string to sign. */
  algorithm: string;
  /** The header that carries the signing time (`YYYYMMDDTHHmmssZ`, UTC), as documented. */
  dateHeader: string;
  /** Headers a request must sign besides `host` and the date header (lower case). */
  requiredHeaders: readonly string[];
  /** A header whose value may stand for the body's hash (UNSIGNED_PAYLOAD), where the scheme has one. */
  contentHashHeader?: string;
  /** This scheme's part of the first-use register the faces share: its signatures' key prefix. */
  scope: string;
}

export const UNSIGNED_PAYLOAD = 'UNSIGNED-PAYLOAD';

export interface HmacAuthorization {
  access: string;
  signedHeaders: string[];
  signature: Buffer;
}

const escapeRegExp = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const patterns = new Map<string, RegExp>();

/** `<algorithm> Access=AK, SignedHeaders=a;b, Signature=hex`, or undefined when not of that form. */
export function parseAuthorization(scheme: HmacScheme, header: string): HmacAuthorization | undefined {
  let re = patterns.get(scheme.algorithm);
  if (!re) {
    re = new RegExp(`^${escapeRegExp(scheme.algorithm)}\\s+Access=([^,\\s]{1,128}),\\s*SignedHeaders=([a-z0-9;_.-]{1,2048}),\\s*Signature=([0-9a-f]{64})$`);
    patterns.set(scheme.algorithm, re);
  }
  const m = re.exec(header.trim());
  if (!m) return undefined;
  const signedHeaders = m[2].split(';');
  if (signedHeaders.some((h) => h === '')) return undefined;
  return { access: m[1], signedHeaders, signature: Buffer.from(m[3], 'hex') };
}

/** Percent-encoding of a path segment or query part: every byte but RFC 3986's unreserved characters. */
export const uriEncode = (s: string): string => encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

/** What Node's legacy url.parse, which some client signers run on the URL, escapes in a path. */
const AUTO_ESCAPED = /[\t\n\r "'<>^`{|}]/g;
const autoEscape = (s: string): string => s.replace(AUTO_ESCAPED, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`);

/**
 * The canonical URIs a client may have signed for a raw request path, each with a trailing
 * `/`: first as a signer that runs url.parse on the URL builds it (the path as url.parse
 * leaves it, so a space is signed as `%2520`), then, when that differs, each segment decoded
 * and encoded once. Both are signatures over the same path. Throws URIError on malformed
 * percent-encoding.
 */
export function canonicalUris(rawPath: string): string[] {
  const segments = rawPath.split('/').map((seg) => decodeURIComponent(seg));
  const slash = (uri: string) => (uri.endsWith('/') ? uri : `${uri}/`);
  const parsed = slash(segments.map((seg) => uriEncode(autoEscape(seg))).join('/'));
  const once = slash(segments.map(uriEncode).join('/'));
  return parsed === once ? [parsed] : [parsed, once];
}

/** The canonical query of a raw query string (without `?`). */
export function canonicalQuery(rawQuery: string): string {
  if (!rawQuery) return '';
  const byName = new Map<string, string[]>();
  for (const [k, v] of new URLSearchParams(rawQuery)) byName.set(k, [...(byName.get(k) ?? []), v]);
  return [...byName.keys()]
    .sort()
    .flatMap((k) => [...byName.get(k)!].sort().map((v) => `${uriEncode(k)}=${uriEncode(v)}`))
    .join('&');
}

export interface SignedRequest {
  method: string;
  /** One of canonicalUris(path). */
  canonicalUri: string;
  rawQuery: string;
  /** The signed headers, lower-case names, values as received. */
  headers: ReadonlyArray<[string, string]>;
  payloadHash: string;
  /** The date header's value. */
  date: string;
}

export function stringToSign(scheme: HmacScheme, r: SignedRequest): string {
  const canonicalHeaders = r.headers.map(([k, v]) => `${k}:${v}\n`).join('');
  const canonical = [r.method, r.canonicalUri, canonicalQuery(r.rawQuery), canonicalHeaders, r.headers.map(([k]) => k).join(';'), r.payloadHash].join('\n');
  return [scheme.algorithm, r.date, crypto.hash('sha256', canonical, 'hex')].join('\n');
}

export const requestSignature = (scheme: HmacScheme, sk: string, r: SignedRequest): Buffer => crypto.createHmac('sha256', sk).update(stringToSign(scheme, r)).digest();

/** A signing time (`YYYYMMDDTHHmmssZ`, UTC) as UNIX seconds, or undefined when malformed. */
export function parseSigningDate(s: string): number | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(s);
  if (!m) return undefined;
  const [y, mo, d, h, mi, se] = m.slice(1).map(Number);
  const ms = Date.UTC(y, mo - 1, d, h, mi, se);
  const back = new Date(ms);
  if (back.getUTCMonth() !== mo - 1 || back.getUTCDate() !== d || h > 23 || mi > 59 || se > 59) return undefined;
  return ms / 1000;
}

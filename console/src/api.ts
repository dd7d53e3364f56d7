import { secretKeyRoot, signedHeaders } from './tc3';

export const API_VERSION = '2019-01-18';

/** An answer of the API's `Error` envelope, or a failure to get one (codes of the console's own: NetworkError, BadResponse). */
export class ApiError extends Error {
  constructor(readonly code: string, message: string, readonly requestId?: string) {
    super(message);
  }
}

/** Who is signed in: held by this tab's memory only, never stored or sent. */
export interface Session {
  secretId: string;
  root: CryptoKey;
  region: string;
}

let session: Session | null = null;
/** Server time minus this browser's, from the Date header of answers: a signature's timestamp must be within 5 minutes. */
let skewMs = 0;

export const currentSession = (): Session | null => session;

export function signOut(): void {
  session = null;
}

export function setRegion(region: string): void {
  if (session) session = { ...session, region };
}

/** Service host as signed: the service accepts it with or without the port, and tries it without first. */
const signedHost = (): string => location.host.replace(/:\d+$/, '');

function noteServerTime(res: Response): boolean {
  const date = Date.parse(res.headers.get('date') ?? '');
  if (Number.isNaN(date)) return false;
  const skew = date - Date.now();
  // The header has one-second resolution: correct only a clock that is clearly off.
  if (Math.abs(skew - skewMs) < 30_000) return false;
  skewMs = skew;
  return true;
}

async function send(s: Session, action: string, params: Record<string, unknown>): Promise<{ res: Response; body: unknown }> {
  const body = JSON.stringify(params);
  const timestamp = Math.floor((Date.now() + skewMs) / 1000);
  const headers = await signedHeaders({ secretId: s.secretId, root: s.root, host: signedHost(), action, region: s.region, version: API_VERSION, timestamp, body });
  let res: Response;
  try {
    res = await fetch('/', { method: 'POST', headers, body, credentials: 'omit', cache: 'no-store' });
  } catch (e) {
    throw new ApiError('NetworkError', `the service could not be reached (${e instanceof Error ? e.message : String(e)})`);
  }
  try {
    return { res, body: await res.json() };
  } catch {
    throw new ApiError('BadResponse', `the service answered HTTP ${res.status} without a JSON body`);
  }
}

async function callAs<T>(s: Session, action: string, params: Record<string, unknown>): Promise<T> {
  let { res, body } = await send(s, action, params);
  const expired = () => (body as { Response?: { Error?: { Code?: string } } })?.Response?.Error?.Code === 'AuthFailure.SignatureExpire';
  // This browser's clock is off: sign again with the service's.
  if (noteServerTime(res) && expired()) ({ res, body } = await send(s, action, params));
  const r = (body as { Response?: Record<string, unknown> }).Response;
  if (!r || typeof r !== 'object') throw new ApiError('BadResponse', 'the answer has no Response object');
  const err = r.Error as { Code?: string; Message?: string } | undefined;
  if (err) throw new ApiError(String(err.Code), String(err.Message ?? ''), r.RequestId as string | undefined);
  return r as T;
}

/** One signed call of the Action API as the signed-in credential. */
export function call<T = Record<string, unknown>>(action: string, params: Record<string, unknown> = {}): Promise<T> {
  if (!session) return Promise.reject(new ApiError('NotSignedIn', 'sign in first'));
  return callAs<T>(session, action, params);
}

/**
 * Checks the credential with a call (GetRegions) and keeps it for the tab. A credential that
 * authenticates but may not list regions (a sub-user without that right) still signs in.
 */
export async function signIn(secretId: string, secretKey: string, region: string): Promise<string[]> {
  if (!globalThis.crypto?.subtle) throw new ApiError('InsecureContext', 'this page is not in a secure context (HTTPS or the loopback address), so the browser offers no WebCrypto to sign with');
  const s: Session = { secretId: secretId.trim(), root: await secretKeyRoot(secretKey.trim()), region };
  let regions: string[] = [region];
  try {
    regions = (await callAs<{ Regions: string[] }>(s, 'GetRegions', {})).Regions;
  } catch (e) {
    if (!(e instanceof ApiError && e.code === 'UnauthorizedOperation')) throw e;
  }
  session = { ...s, region: regions.includes(region) ? region : regions[0] ?? region };
  return regions;
}

/** UTF-8 text to base64, and back (the API carries bytes as base64). */
export function textToBase64(text: string): string {
  return bytesToBase64(new TextEncoder().encode(text));
}

export function bytesToBase64(bytes: Uint8Array): string {
  let bin = '';
  for (const b of bytes) bin += String.fromCharCode(b);
  return btoa(bin);
}

export function base64ToText(b64: string): { text: string | null; bytes: Uint8Array } {
  const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
  try {
    return { text: new TextDecoder('utf-8', { fatal: true }).decode(bytes), bytes };
  } catch {
    return { text: null, bytes };
  }
}

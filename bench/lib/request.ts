import { API_VERSION, REGION } from './constants';
import { signPost } from './tc3';

/** A signed request, ready for fetch or for a wrk script. */
export interface SignedRequest {
  url: string;
  /** POST when absent */
  method?: string;
  headers: Record<string, string>;
  body: string;
}

export interface EncryptTarget {
  /** host:port */
  endpoint: string;
  keyId: string;
  credential: { SecretId: string; SecretKey: string };
}

/**
 * A TC3-signed call of `action` with `params`. Signs at `timestamp` (now by default): TC3 has
 * no nonce, so the request stays valid for 5 minutes around it; sign again per run.
 */
export function signedAction(t: Omit<EncryptTarget, 'keyId'>, action: string, params: Record<string, unknown>, timestamp?: number, bindAction = false): SignedRequest {
  const body = JSON.stringify(params);
  const headers = signPost({ secretId: t.credential.SecretId, secretKey: t.credential.SecretKey, endpoint: t.endpoint, action, version: API_VERSION, region: REGION, body, timestamp, bindAction });
  return { url: `http://${t.endpoint}/`, headers, body };
}

/** With `bindAction`, X-TC-Action and X-TC-Region are signed too, so the service makes no claim for the signature. */
export function signedEncrypt(t: EncryptTarget, plaintextB64: string, timestamp?: number, bindAction = false): SignedRequest {
  return signedAction(t, 'Encrypt', { KeyId: t.keyId, Plaintext: plaintextB64 }, timestamp, bindAction);
}

export interface EncryptAnswer {
  CiphertextBlob: string;
  KeyId: string;
  RequestId: string;
}

/** Sends the request once; throws unless the answer is a 200 holding `expect` and no Error. Returns the Response object. */
export async function sendAction(req: SignedRequest, what: string, expect: string): Promise<Record<string, unknown>> {
  // fetch sets Host itself (to the same host:port); it may not be given.
  const headers = Object.fromEntries(Object.entries(req.headers).filter(([k]) => k.toLowerCase() !== 'host'));
  const res = await fetch(req.url, { method: req.method ?? 'POST', headers, body: req.body, signal: AbortSignal.timeout(30_000) });
  const text = await res.text();
  let parsed: { Response?: Record<string, unknown> & { Error?: unknown } } & Record<string, unknown>;
  try {
    parsed = JSON.parse(text) as typeof parsed;
  } catch {
    throw new Error(`${what}: the answer is not JSON (HTTP ${res.status}): ${text.slice(0, 500)}`);
  }
  const r = parsed.Response ?? parsed;
  if (res.status !== 200 || r.Error || r.error_code || r[expect] === undefined || r[expect] === '') {
    throw new Error(`${what}: failed (HTTP ${res.status}): ${text.slice(0, 500)}`);
  }
  return r;
}

/** Sends an Encrypt once; throws unless the answer is a 200 with a CiphertextBlob and no Error. */
export async function sendOnce(req: SignedRequest, what: string): Promise<EncryptAnswer> {
  return (await sendAction(req, what, 'CiphertextBlob')) as unknown as EncryptAnswer;
}

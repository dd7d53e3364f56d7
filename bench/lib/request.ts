import { API_VERSION, REGION } from './constants';
import { signPost } from './tc3';

/** A signed Encrypt request, ready for fetch or for a wrk script. */
export interface SignedRequest {
  url: string;
  headers: Record<string, string>;
  body: string;
}

export interface EncryptTarget {
  /** host:port */
  endpoint: string;
  keyId: string;
  credential: { SecretId: string; SecretKey: string };
}

/** Signs now: TC3 has no nonce, so the request stays valid for 5 minutes; sign again per run. */
export function signedEncrypt(t: EncryptTarget, plaintextB64: string): SignedRequest {
  const body = JSON.stringify({ KeyId: t.keyId, Plaintext: plaintextB64 });
  const headers = signPost({ secretId: t.credential.SecretId, secretKey: t.credential.SecretKey, endpoint: t.endpoint, action: 'Encrypt', version: API_VERSION, region: REGION, body });
  return { url: `http://${t.endpoint}/`, headers, body };
}

export interface EncryptAnswer {
  CiphertextBlob: string;
  KeyId: string;
  RequestId: string;
}

/** Sends the request once; throws unless the answer is a 200 with a CiphertextBlob and no Error. */
export async function sendOnce(req: SignedRequest, what: string): Promise<EncryptAnswer> {
  // fetch sets Host itself (to the same host:port); it may not be given.
  const headers = Object.fromEntries(Object.entries(req.headers).filter(([k]) => k.toLowerCase() !== 'host'));
  const res = await fetch(req.url, { method: 'POST', headers, body: req.body, signal: AbortSignal.timeout(30_000) });
  const text = await res.text();
  let parsed: { Response?: Partial<EncryptAnswer> & { Error?: { Code: string; Message: string } } };
  try {
    parsed = JSON.parse(text) as typeof parsed;
  } catch {
    throw new Error(`${what}: the answer is not JSON (HTTP ${res.status}): ${text.slice(0, 500)}`);
  }
  const r = parsed.Response;
  if (res.status !== 200 || !r || r.Error || typeof r.CiphertextBlob !== 'string' || r.CiphertextBlob === '') {
    throw new Error(`${what}: Encrypt failed (HTTP ${res.status}): ${text.slice(0, 500)}`);
  }
  return r as EncryptAnswer;
}

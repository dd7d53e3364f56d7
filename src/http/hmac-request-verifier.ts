import * as crypto from 'node:crypto';
import { IncomingHttpHeaders } from 'node:http';
import { AccountsService, CachedCredential, identityOf } from '../accounts/accounts.service';
import { Identity } from '../accounts/principal';
import { isIssuedSecretId } from '../accounts/secret-id';
import { Clock } from '../common/clock';
import { SWAP_WINDOW_MS } from './first-use-register';
import { HmacScheme, UNSIGNED_PAYLOAD, canonicalUris, parseAuthorization, parseSigningDate, requestSignature } from './hmac-request-signature';
import { SharedFirstUseRegister } from './shared-first-use-register';

/** How far a signing time may be from the server's clock, either way. */
export const SIGNATURE_WINDOW_SECONDS = 15 * 60;

/** What verification needs of a request; the body is read only once the credential is known. */
export interface SignedCall {
  method: string;
  /** The TCP peer's address. */
  address: string;
  rawPath: string;
  rawQuery: string;
  headers: IncomingHttpHeaders;
  body(): Promise<Buffer>;
}

/** Why a signed request was refused; each face maps these to its own codes. */
export type SignatureFault =
  /** No Authorization header. */
  | 'unsigned'
  /** Authorization, SignedHeaders or the signing time is malformed or incomplete. */
  | 'malformed'
  /** The signing time is outside the window. */
  | 'expired'
  /** The access key names no active credential. */
  | 'unknownCredential'
  /** A body declared unsigned. */
  | 'unsignedBody'
  /** The path is not valid percent-encoding. */
  | 'badPath'
  | 'mismatch'
  | 'replayed'
  /** The register of recent signatures is full. */
  | 'registerFull';

export class RequestSignatureError extends Error {
  constructor(readonly fault: SignatureFault, message: string) {
    super(message);
    this.name = 'RequestSignatureError';
  }
}

/** A verified signature: its key in the register, and until when its signing time is accepted (ms). */
export interface SignatureUse {
  key: string;
  expiresAt: number;
}

/**
 * The signer, and `claimSignature`, which the face calls once its cheaper checks passed, so
 * that nothing refused earlier takes room in the register; a face that keeps a signature's
 * single use elsewhere (a session that records its own steps) uses `signature` instead.
 */
export type SignedCaller = Identity & { signature: SignatureUse; claimSignature: () => Promise<void> };

export const replayed = (rule: string): RequestSignatureError => new RequestSignatureError('replayed', `this signature was already used: ${rule}; sign the request again`);

export const headerValue = (h: IncomingHttpHeaders, name: string): string | undefined => {
  const v = h[name];
  return Array.isArray(v) ? v.join(',') : v;
};

/** Signatures are HMAC outputs of equal length: compared in constant time. */
const same = (a: Buffer, b: Buffer): boolean => a.length === b.length && crypto.timingSafeEqual(a, b);

/**
 * Verifies a request signed under an HMAC scheme (hmac-request-signature.ts) with the
 * credentials every face shares: the SecretId as access key, the SecretKey as the HMAC key.
 *
 * A signature serves one request. Honest clients send identical calls within one second (the
 * same signing time, so the same signature), so a signature is accepted again only from the
 * address that used it first and within SWAP_WINDOW_MS of that use; otherwise, until its
 * signing time leaves the window, it is a replay. The register is shared by every worker and,
 * with KMS_REDIS_URL, every instance.
 */
export class HmacRequestVerifier {
  private readonly dateHeader: string;

  constructor(
    private readonly scheme: HmacScheme,
    private readonly accounts: AccountsService,
    private readonly clock: Clock,
    private readonly signatures: SharedFirstUseRegister,
  ) {
    this.dateHeader = scheme.dateHeader.toLowerCase();
  }

  async verify(call: SignedCall): Promise<SignedCaller> {
    const { scheme } = this;
    const raw = headerValue(call.headers, 'authorization');
    if (raw === undefined) throw new RequestSignatureError('unsigned', 'the request is not signed (Authorization)');
    const auth = parseAuthorization(scheme, raw);
    if (!auth) throw new RequestSignatureError('malformed', `Authorization is not "${scheme.algorithm} Access=<SecretId>, SignedHeaders=<h1;h2>, Signature=<hex>"`);
    const required = ['host', this.dateHeader, ...scheme.requiredHeaders];
    if (required.some((h) => !auth.signedHeaders.includes(h))) throw new RequestSignatureError('malformed', `SignedHeaders must include ${required.join(', ')}`);
    const date = headerValue(call.headers, this.dateHeader) ?? '';
    const at = parseSigningDate(date);
    if (at === undefined) throw new RequestSignatureError('malformed', `${scheme.dateHeader} must be a UTC time as YYYYMMDDTHHmmssZ`);
    if (Math.abs(this.clock.wallSeconds() - at) > SIGNATURE_WINDOW_SECONDS) {
      throw new RequestSignatureError('expired', `the signature expired: ${scheme.dateHeader} is more than ${SIGNATURE_WINDOW_SECONDS / 60} minutes from the server time`);
    }
    const cred = await this.credential(auth.access);
    const body = await call.body();
    const declared = scheme.contentHashHeader === undefined ? undefined : headerValue(call.headers, scheme.contentHashHeader);
    // A body must be signed: only a request without one may declare itself unsigned.
    if (declared === UNSIGNED_PAYLOAD && body.length > 0) throw new RequestSignatureError('unsignedBody', `the body is not signed (${scheme.contentHashHeader}: ${UNSIGNED_PAYLOAD}); sign it`);
    const payloadHash = declared === UNSIGNED_PAYLOAD ? UNSIGNED_PAYLOAD : crypto.hash('sha256', body, 'hex');
    const headers = auth.signedHeaders.map((h): [string, string] => [h, headerValue(call.headers, h) ?? '']);
    const signedBy = (canonicalUri: string) => same(requestSignature(scheme, cred.secretKey, { method: call.method, canonicalUri, rawQuery: call.rawQuery, headers, payloadHash, date }), auth.signature);
    let uris: string[];
    try {
      uris = canonicalUris(call.rawPath);
    } catch {
      throw new RequestSignatureError('badPath', 'the request path is not valid percent-encoding');
    }
    if (!uris.some(signedBy)) throw new RequestSignatureError('mismatch', 'the signature does not match the request');
    const signature: SignatureUse = {
      // The scheme's own keys in the register the faces share; an HMAC's first 128 bits name it well enough.
      key: `${scheme.scope}:${auth.signature.toString('base64', 0, 16)}`,
      // The date check accepts the signature until this moment.
      expiresAt: (at + SIGNATURE_WINDOW_SECONDS + 1) * 1000,
    };
    return { ...identityOf(cred), signature, claimSignature: () => this.claim(call.address, signature) };
  }

  private async claim(address: string, signature: SignatureUse): Promise<void> {
    // No tag: every later use is judged by the address and time of the first, and none is kept.
    const verdict = await this.signatures.claim({ ...signature, tag: '', address });
    if (verdict === 'refused') throw replayed(`a signed request serves once (again only from the same address within ${SWAP_WINDOW_MS / 1000} s)`);
    if (verdict === 'full') throw new RequestSignatureError('registerFull', 'the service holds as many recent signatures as it can; retry shortly');
  }

  private async credential(ak: string): Promise<CachedCredential> {
    // The access key is a SecretId, which every face shares; one not of the issued form is not looked up.
    const cred = isIssuedSecretId(ak) ? await this.accounts.credential(ak) : null;
    if (!cred || !cred.active) throw new RequestSignatureError('unknownCredential', 'the SecretId (Access=) does not exist or is disabled');
    return cred;
  }
}

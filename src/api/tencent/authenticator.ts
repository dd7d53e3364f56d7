import { Injectable } from '@nestjs/common';
import * as crypto from 'node:crypto';
import { AccountsService, CachedCredential } from '../../accounts/accounts.service';
import { Policy } from '../../accounts/policy';
import { isIssuedSecretId } from '../../accounts/secret-id';
import { Clock } from '../../common/clock';
import { NonceStore, REPLAY_WINDOW_SECONDS } from './nonce-store';
import { v1Signature, v1StringToSign } from './signature-v1';
import { SignatureBinding } from './signature-binding';
import { parseTc3Authorization, sha256hex, tc3Signature, tc3SigningKey, utcDate } from './signature-v3';
import { TencentError } from './tencent-error';
import { TencentCall } from './tencent-request';

export interface Caller {
  uin: string;
  /** The sub-user who signed, or the account itself. */
  callerUin: string;
  secretId: string;
  policy?: Policy;
  /**
   * TC3 signatures that leave X-TC-Action or X-TC-Region unsigned: claims the signature for the
   * action and region the face has checked exist (SignatureBinding). The face calls it only
   * after the action lookup, the rate limit and the region check, so that nothing unchecked or
   * over the limit takes room in the register.
   */
  claimBinding?: (action: string, region: string) => Promise<void>;
}

const SECRET_ID_RE = /^AKID[A-Za-z0-9]{8,60}$/;
const fail = (code: string, msg: string): TencentError => new TencentError(`AuthFailure.${code}`, msg);

/** Signatures are compared in constant time; both sides are HMAC outputs of equal length. */
function same(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && crypto.timingSafeEqual(a, b);
}

/** The hosts a client may have signed, most likely first: the SDK signs TC3 without the port and v1 with it. */
function hostCandidates(host: string | undefined, portFirst: boolean): string[] {
  if (!host) return [''];
  const h = host.trim();
  const noPort = h.replace(/:\d+$/, '');
  if (noPort === h) return [h];
  return portFirst ? [h, noPort] : [noPort, h];
}

/**
 * The services a TC3 credential scope may name: `kms`, or the first label of the Host the
 * request went to, as the official SDK derives it from its endpoint (`endpoint.split('.')[0]`,
 * so `127` for 127.0.0.1:8080, `keys` for keys.example.com, and `localhost:8080`, port and
 * case as written, for a host without a dot), with or without a port. A signature scoped to
 * another service was made for another API and is not accepted here.
 */
export function scopeServices(host: string | undefined): string[] {
  const label = (host ?? '').trim().split('.')[0];
  return [...new Set(['kms', label, label.replace(/:\d+$/, '')].filter(Boolean))];
}

/**
 * Verifies TC3-HMAC-SHA256 and v1 (HmacSHA1/HmacSHA256) signatures. Derived TC3 signing
 * keys are cached on the cached credential per (date, service), which saves three HMACs on
 * the hot path and drops them with the credential when it is disabled or deleted. A TC3 body
 * is read only once the headers and the credential check out, so that callers without one
 * cannot make the service buffer or hash anything.
 */
@Injectable()
export class Authenticator {
  constructor(private readonly accounts: AccountsService, private readonly nonces: NonceStore, private readonly binding: SignatureBinding, private readonly clock: Clock) {}

  async authenticate(call: TencentCall): Promise<Caller> {
    const ts = this.checkTimestamp(call.timestamp);
    const who = call.style === 'tc3' ? await this.tc3(call, ts) : await this.v1(call, ts);
    this.accounts.noteUse(who.secretId);
    return who;
  }

  private checkTimestamp(raw: string): number {
    if (!/^\d{1,12}$/.test(raw)) throw new TencentError('InvalidParameter', 'the timestamp must be a UNIX time in seconds');
    const ts = Number(raw);
    if (Math.abs(this.clock.wallSeconds() - ts) > REPLAY_WINDOW_SECONDS) throw fail('SignatureExpire', 'the signature expired: the timestamp is more than 5 minutes from the server time');
    return ts;
  }

  private async credential(secretId: string): Promise<CachedCredential> {
    if (!SECRET_ID_RE.test(secretId)) throw fail('InvalidSecretId', 'the SecretId is not an API key id');
    // Of the form the API accepts, but not one issued here: unknown, without a look-up.
    const cred = isIssuedSecretId(secretId) ? await this.accounts.credential(secretId) : null;
    if (!cred || !cred.active) throw fail('SecretIdNotFound', 'the SecretId does not exist or is disabled');
    return cred;
  }

  private async tc3(call: TencentCall, ts: number): Promise<Caller> {
    const auth = parseTc3Authorization(String(call.headers.authorization));
    if (!auth) throw fail('SignatureFailure', 'the Authorization header is not a valid TC3-HMAC-SHA256 authorization');
    if (call.headers['x-tc-token']) throw fail('TokenFailure', 'temporary credentials (X-TC-Token) are not supported');
    if (auth.date !== utcDate(ts)) throw fail('SignatureFailure', 'the credential scope date is not the UTC date of X-TC-Timestamp');
    if (!auth.signedHeaders.includes('content-type') || !auth.signedHeaders.includes('host')) throw fail('SignatureFailure', 'SignedHeaders must include content-type and host');
    if (!scopeServices(call.headers.host).includes(auth.service)) throw fail('SignatureFailure', `the credential scope names the service "${auth.service}"; this endpoint accepts ${scopeServices(call.headers.host).map((x) => `"${x}"`).join(' or ')}`);
    this.binding.checkSignedHeaders(auth);
    const cred = await this.credential(auth.secretId);
    const body = await call.body();

    // Cached only once a signature verifies, so unauthenticated callers cannot fill the cache.
    const cacheKey = `${auth.date}\n${auth.service}`;
    const cached = cred.derivedKeys.get(cacheKey);
    const key = cached ?? tc3SigningKey(cred.secretKey, auth.date, auth.service);
    const payloadHash = sha256hex(body);
    // Clients differ on the host they sign (with or without the port) and on whether header
    // values are lower-cased: try the SDK's host and the documented lower-cased values first
    // (a client that signs X-TC-Action signs `encrypt`), the others only on a mismatch.
    for (const host of hostCandidates(call.headers.host, false)) {
      const asSent = auth.signedHeaders.map((h) => `${h}:${(h === 'host' ? host : String(call.headers[h] ?? '')).trim()}\n`).join('');
      const lowered = asSent.toLowerCase();
      for (const canonicalHeaders of lowered === asSent ? [asSent] : [lowered, asSent]) {
        const sig = tc3Signature(
          key,
          { method: call.method, path: call.path, rawQuery: call.rawQuery, canonicalHeaders, signedHeaders: auth.signedHeaders.join(';'), payload: body, timestamp: call.timestamp, date: auth.date, service: auth.service },
          payloadHash,
        );
        if (same(sig, auth.signature)) {
          if (!cached) {
            if (cred.derivedKeys.size >= 16) cred.derivedKeys.clear();
            cred.derivedKeys.set(cacheKey, key);
          }
          const claimBinding = this.binding.needsClaim(auth) ? (action: string, region: string) => this.binding.claim(call.address, auth, ts, action, region) : undefined;
          return { ...caller(cred), claimBinding };
        }
      }
    }
    throw fail('SignatureFailure', 'the signature does not match the request');
  }

  private async v1(call: TencentCall, ts: number): Promise<Caller> {
    const p = call.v1Params!;
    const secretId = p.get('SecretId');
    const signatureB64 = p.get('Signature');
    const nonce = p.get('Nonce');
    if (!secretId) throw new TencentError('MissingParameter', 'the common parameter SecretId is required');
    if (!signatureB64) throw new TencentError('MissingParameter', 'the common parameter Signature is required');
    if (!nonce) throw new TencentError('MissingParameter', 'the common parameter Nonce is required');
    if (!/^\d{1,20}$/.test(nonce)) throw new TencentError('InvalidParameter', 'Nonce must be a positive integer');
    if (p.get('Token')) throw fail('TokenFailure', 'temporary credentials (Token) are not supported');
    const signatureMethod = p.get('SignatureMethod');
    if (signatureMethod != null && signatureMethod !== 'HmacSHA1' && signatureMethod !== 'HmacSHA256') throw new TencentError('InvalidParameter', 'SignatureMethod must be HmacSHA1 (the default) or HmacSHA256');
    const method = signatureMethod ?? 'HmacSHA1';
    const given = Buffer.from(signatureB64, 'base64');
    const cred = await this.credential(secretId);
    let ok = false;
    for (const host of hostCandidates(call.headers.host, true)) {
      if (same(v1Signature(cred.secretKey, method, v1StringToSign(call.method, host, call.path, p)), given)) {
        ok = true;
        break;
      }
    }
    if (!ok) throw fail('SignatureFailure', 'the signature does not match the request');
    if (!(await this.nonces.claim(secretId, ts, nonce, given))) throw fail('SignatureFailure', 'this request was already received with this Timestamp and Nonce: it is a replay');
    return caller(cred);
  }
}

const caller = (c: CachedCredential): Caller => ({ uin: c.uin, callerUin: c.subUin ?? c.uin, secretId: c.secretId, policy: c.policy });

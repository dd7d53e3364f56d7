import { Injectable } from '@nestjs/common';
import { ConfigError } from '../../config/config';
import { SWAP_WINDOW_MS } from '../../http/first-use-register';
import { SharedFirstUseRegister } from '../../http/shared-first-use-register';
import { REPLAY_WINDOW_SECONDS } from './nonce-store';
import { Tc3Authorization } from './signature-v3';
import { TencentError } from './tencent-error';

/** The headers that name what a request does but that the official SDK leaves unsigned. */
const BOUND_HEADERS = ['x-tc-action', 'x-tc-region'];

/**
 * Binds a TC3 signature to the action and region it was made for. The official SDK signs
 * only content-type and host, so a captured request could otherwise be resent as another
 * action (a DescribeKey as a DisableKey, a ReEncrypt as a Decrypt). Each verified signature
 * that leaves X-TC-Action or X-TC-Region unsigned is claimed in a first-use register shared
 * by every worker (the cluster primary) and, with KMS_REDIS_URL, every instance: the same
 * signature with another action or region is accepted only from the address that used it
 * first, within 2 seconds of that use, because honest clients send two calls with the same
 * body in the same second (DisableKey then EnableKey), and those carry the same signature.
 *
 * KMS_TC3_REQUIRE_SIGNED_ACTION=1 refuses signatures that leave X-TC-Action unsigned.
 */
@Injectable()
export class SignatureBinding {
  private readonly requireSignedAction = flag('KMS_TC3_REQUIRE_SIGNED_ACTION');

  constructor(private readonly register: SharedFirstUseRegister) {}

  /** Before the credential is looked up: what SignedHeaders must name. */
  checkSignedHeaders(auth: Tc3Authorization): void {
    if (this.requireSignedAction && !auth.signedHeaders.includes('x-tc-action')) {
      throw new TencentError('AuthFailure.SignatureFailure', 'this service requires x-tc-action in SignedHeaders (KMS_TC3_REQUIRE_SIGNED_ACTION): sign the X-TC-Action header');
    }
  }

  /** Whether a verified signature is to be claimed: it leaves X-TC-Action or X-TC-Region unsigned. */
  needsClaim(auth: Tc3Authorization): boolean {
    return !BOUND_HEADERS.every((h) => auth.signedHeaders.includes(h));
  }

  /**
   * After the signature verified (and needs a claim) and the face checked the action and
   * region: refuses the signature if it was first used for another action or region. Both are
   * names the face knows (bounded), never header text as sent.
   */
  async claim(address: string, auth: Tc3Authorization, timestamp: number, action: string, region: string): Promise<void> {
    const verdict = await this.register.claim({
      key: auth.signature.toString('base64', 0, 16),
      tag: `${action}\n${region}`,
      address,
      // The timestamp check accepts the signature until this moment.
      expiresAt: (timestamp + REPLAY_WINDOW_SECONDS + 1) * 1000,
    });
    if (verdict === 'refused') {
      throw new TencentError(
        'AuthFailure.SignatureFailure',
        `this signature was first used for another action or region; as X-TC-Action and X-TC-Region are not in SignedHeaders, it serves another only from the same address within ${SWAP_WINDOW_MS / 1000} s: sign the request again`,
      );
    }
    if (verdict === 'full') throw new TencentError('RequestLimitExceeded', 'the service holds as many recent signatures as it can; retry shortly');
  }
}

function flag(name: string): boolean {
  const raw = process.env[name];
  if (raw === undefined || raw === '' || raw === '0') return false;
  if (raw === '1') return true;
  throw new ConfigError(`${name} must be 1 or 0, got "${raw}"`);
}

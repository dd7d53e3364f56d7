import { Injectable } from '@nestjs/common';
import { AccountsService } from '../../accounts/accounts.service';
import { Identity } from '../../accounts/principal';
import { Clock } from '../../common/clock';
import { HmacRequestVerifier, SignedCall, headerValue } from '../../http/hmac-request-verifier';
import { SharedFirstUseRegister } from '../../http/shared-first-use-register';
import { huaweiError } from './huawei-error';
import { SDK_SCHEME } from './sdk-signature';

/**
 * Who signed (or whose token was presented): the credential (AK) or token id is what the audit
 * trail records. A signed request also brings `claimSignature`, which the face calls once the
 * project and the rate limit are checked, so that nothing refused earlier takes room in the
 * register of signatures.
 */
export type Caller = Identity & { claimSignature?: () => Promise<void> };

/**
 * Authenticates a request: by X-Auth-Token when one is sent (a token of `kms iam-token create`;
 * a refused one throws AccessTokenRefusedError, which huawei-errors.ts maps), otherwise by its
 * AK/SK signature (SDK-HMAC-SHA256, see sdk-signature.ts) made with the credentials every face
 * shares (the SecretId as AK, the SecretKey as SK), verified and claimed once by the shared
 * HmacRequestVerifier (its refusals are mapped in huawei-errors.ts).
 */
@Injectable()
export class HuaweiAuthenticator {
  private readonly verifier: HmacRequestVerifier;

  constructor(private readonly accounts: AccountsService, clock: Clock, signatures: SharedFirstUseRegister) {
    this.verifier = new HmacRequestVerifier(SDK_SCHEME, accounts, clock, signatures);
  }

  async authenticate(call: SignedCall): Promise<Caller> {
    const token = headerValue(call.headers, 'x-auth-token');
    let who: Caller;
    if (token !== undefined) {
      if (token === '' || token.length > 8192) throw huaweiError('noCredentials', 'X-Auth-Token is empty or too long');
      who = await this.accounts.verifyAccessToken(token);
    } else {
      if (headerValue(call.headers, 'authorization') !== undefined && headerValue(call.headers, 'x-security-token') !== undefined) {
        throw huaweiError('badCredentials', 'temporary credentials (X-Security-Token) are not supported');
      }
      who = await this.verifier.verify(call);
    }
    this.accounts.noteUse(who.secretId);
    return who;
  }
}

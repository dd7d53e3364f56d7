import { Injectable } from '@nestjs/common';
import { AccountsService } from '../../accounts/accounts.service';
import { Clock } from '../../common/clock';
import { HmacScheme } from '../../http/hmac-request-signature';
import { HmacRequestVerifier, SignedCall, SignedCaller } from '../../http/hmac-request-verifier';
import { SharedFirstUseRegister } from '../../http/shared-first-use-register';

/**
 * KMS-HMAC-SHA256 (docs/huks-protocol.md, Authentication): the canonical request of
 * ../../http/hmac-request-signature.ts over every request and its whole body, signed at the
 * time in X-Kms-Date, with the region header signed too. Its signatures have a scope of their
 * own in the register the faces share.
 */
export const HUKS_SCHEME: HmacScheme = {
  algorithm: 'KMS-HMAC-SHA256',
  dateHeader: 'X-Kms-Date',
  requiredHeaders: ['x-kms-region'],
  scope: 'kms-hmac',
};

/** What the authenticator needs of a request; the body (up to 2 MiB) is read only once the SecretId is known. */
export type HuksCall = Omit<SignedCall, 'rawQuery'>;

/**
 * Authenticates a request by its signature with the account's SecretId and SecretKey; a
 * signature serves one request (the caller claims it once its cheaper checks pass). Refusals
 * are RequestSignatureError, which huks-errors.ts maps.
 */
@Injectable()
export class HuksAuthenticator {
  private readonly verifier: HmacRequestVerifier;

  constructor(private readonly accounts: AccountsService, clock: Clock, signatures: SharedFirstUseRegister) {
    this.verifier = new HmacRequestVerifier(HUKS_SCHEME, accounts, clock, signatures);
  }

  async authenticate(call: HuksCall): Promise<SignedCaller> {
    // The face takes no query: a query, if sent, is not part of what is signed.
    const caller = await this.verifier.verify({ ...call, rawQuery: '' });
    this.accounts.noteUse(caller.secretId);
    return caller;
  }
}

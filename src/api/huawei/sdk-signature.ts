import { HmacScheme } from '../../http/hmac-request-signature';

/**
 * SDK-HMAC-SHA256, the AK/SK request signature exactly as the vendor's SDK core builds it
 * (auth/AKSKSigner.js): the canonical request of ../../http/hmac-request-signature.ts, signed
 * at the time in X-Sdk-Date; the SDK sends X-Sdk-Content-Sha256: UNSIGNED-PAYLOAD for
 * requests without a JSON body.
 */
export const SDK_SCHEME: HmacScheme = {
  algorithm: 'SDK-HMAC-SHA256',
  dateHeader: 'X-Sdk-Date',
  requiredHeaders: [],
  contentHashHeader: 'x-sdk-content-sha256',
  scope: 'sdk',
};

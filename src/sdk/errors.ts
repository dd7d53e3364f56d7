/**
 * The seed's EncryptSDKError: a code from its list, a message, and the KMS error underneath
 * (`kmsCode`, `requestId`) when the service answered one.
 */
export type EncryptSDKErrorCode =
  | 'InvalidParameter'
  | 'KmsAccessError'
  | 'GenerateDataKeyError'
  | 'EncryptDataKeyError'
  | 'LocalEncryptError'
  | 'UnknownError'
  | 'CheckAlgorithmError'
  | 'InvalidMessage'
  | 'DecryptDataKeyError'
  | 'SignCheckFail'
  | 'LocalDecryptError';

/** One master key's refusal, when a call went through several before failing. */
export interface MasterKeyFailure {
  region: string;
  keyId: string;
  /** The service's error code, or `KmsAccessError` when it could not be reached. */
  code: string;
  message: string;
  requestId?: string;
}

export interface EncryptSDKErrorDetails {
  kmsCode?: string;
  requestId?: string;
  attempts?: MasterKeyFailure[];
}

export class EncryptSDKError extends Error {
  override readonly name = 'EncryptSDKError';
  readonly kmsCode?: string;
  readonly requestId?: string;
  readonly attempts?: MasterKeyFailure[];

  constructor(
    readonly code: EncryptSDKErrorCode,
    message: string,
    details: EncryptSDKErrorDetails = {},
  ) {
    super(details.kmsCode ? `${message} (KMS: ${details.kmsCode})` : message);
    if (details.kmsCode !== undefined) this.kmsCode = details.kmsCode;
    if (details.requestId !== undefined) this.requestId = details.requestId;
    if (details.attempts !== undefined) this.attempts = details.attempts;
  }
}

export const invalidParameter = (message: string): EncryptSDKError => new EncryptSDKError('InvalidParameter', message);
export const invalidMessage = (message: string): EncryptSDKError => new EncryptSDKError('InvalidMessage', message);

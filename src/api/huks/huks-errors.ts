import {
  AliasAlreadyExistsError,
  AsymmetricDecryptError,
  CmkLimitExceededError,
  DefaultKeyError,
  DomainError,
  InvalidCiphertextError,
  InvalidParameterError,
  InvalidSignatureError,
  KeyBusyError,
  KeyDisabledError,
  KeyNotFoundError,
  KeyShouldBeDisabledError,
  KeyStateError,
  KeyUsageMismatchError,
  ServiceUnavailableError,
  StreamBufferLimitError,
  StreamLimitError,
  StreamNotFoundError,
  UnauthorizedError,
  UnsupportedAlgorithmError,
  UnsupportedKeyUsageError,
} from '../../common/domain-errors';
import { Log } from '../../common/logger';
import { HsmError } from '../../hsm/hsm-errors';
import { RequestSignatureError, SignatureFault } from '../../http/hmac-request-verifier';
import { HuksError, HuksReason, huksError } from './huks-error';
import { usageName } from './key-rules';
import { isDatabaseUnavailable } from '../../persistence/database-errors';

/** The core's field ids in this face's words, for messages. */
const NAMES: Readonly<Record<string, string>> = { alias: 'keyAlias', inData: 'inData', keySpec: 'HUKS_TAG_KEY_SIZE', material: 'inData', keyUsage: 'HUKS_TAG_PURPOSE' };

/** Signature refusals (the verifier every signed face shares). */
const SIGNATURE_REASONS: Record<SignatureFault, HuksReason> = {
  unsigned: 'NoCredential',
  malformed: 'NoCredential',
  unknownCredential: 'NoCredential',
  expired: 'SignatureExpired',
  unsignedBody: 'SignatureMismatch',
  badPath: 'UnknownOperation',
  mismatch: 'SignatureMismatch',
  replayed: 'SignatureReplayed',
  registerFull: 'Throttled',
};

/** The one place where core errors become this face's codes. Unknown errors are logged and answered without detail. */
export function toHuksError(e: unknown, requestId: string, operation?: string): HuksError {
  if (e instanceof HuksError) return e;
  if (e instanceof RequestSignatureError) return huksError(SIGNATURE_REASONS[e.fault], e.message);
  if (e instanceof InvalidParameterError) {
    const message = e.render((id) => NAMES[id] ?? id);
    // An alias the store cannot hold is a bad argument, as HUKS answers an over-long alias.
    return huksError(e.field === 'alias' ? 'InvalidArgument' : 'InvalidParameter', message);
  }
  if (e instanceof KeyNotFoundError) return huksError('KeyNotFound', `no key under this alias: ${e.message}`);
  if (e instanceof StreamNotFoundError) return huksError(e.elsewhere ? 'WrongInstance' : 'SessionNotFound', e.message);
  if (e instanceof StreamLimitError) return huksError('SessionLimit', e.message);
  if (e instanceof StreamBufferLimitError) return huksError('BufferLimit', e.message);
  if (e instanceof InvalidCiphertextError || e instanceof InvalidSignatureError) return huksError('VerifyFailed', e.message);
  // As HUKS answers ciphertext its crypto engine cannot decrypt.
  if (e instanceof AsymmetricDecryptError) return huksError('DecryptFailed', e.message);
  if (e instanceof UnsupportedKeyUsageError || e instanceof KeyUsageMismatchError) return huksError('InvalidParameter', e.render(usageName));
  if (e instanceof UnsupportedAlgorithmError) return huksError('Unsupported', e.message);
  if (e instanceof KeyDisabledError || e instanceof KeyStateError || e instanceof DefaultKeyError || e instanceof KeyShouldBeDisabledError) return huksError('KeyState', e.message);
  if (e instanceof AliasAlreadyExistsError) return huksError('AliasExists', e.message);
  if (e instanceof CmkLimitExceededError) return huksError('QuotaExceeded', e.message);
  if (e instanceof UnauthorizedError) return huksError('Denied', e.message);
  if (e instanceof ServiceUnavailableError || e instanceof KeyBusyError) return huksError('Unavailable', e.message);
  if (isDatabaseUnavailable(e)) return huksError('Unavailable', 'the database is unavailable; retry later');
  if (e instanceof HsmError) {
    Log.warn('token refused a session step', { requestId, operation, error: e.message });
    return huksError('CryptoFailed', `the key store failed the operation; quote request id ${requestId}`);
  }
  if (e instanceof DomainError) return huksError('KeyState', e.message);
  Log.error('internal error', { requestId, operation, error: e instanceof Error ? `${e.name}: ${e.message}` : String(e) });
  return huksError('Unavailable', `internal error; quote request id ${requestId}`);
}

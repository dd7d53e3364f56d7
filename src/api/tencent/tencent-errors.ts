import {
  AliasAlreadyExistsError,
  BindingNotFoundError,
  KeyInUseError,
  KeyNotPendingDeleteError,
  KeyShouldBeDisabledError,
  CmkLimitExceededError,
  KeyVersionLimitError,
  ExternalKeyCannotRotateError,
  InvalidCiphertextError,
  InvalidParameterError,
  KeyDisabledError,
  KeyNotFoundError,
  KeyStateError,
  ServiceUnavailableError,
  UnauthorizedError,
  UnsupportedKeyUsageError,
  NotExternalKeyError,
  ImportTokenExpiredError,
  MaterialDecryptError,
  MaterialMismatchError,
  InvalidParameterKind,
  UnsupportedWrappingAlgorithmError,
} from '../../common/domain-errors';
import { Log } from '../../common/logger';
import { TencentError } from './tencent-error';
import { TYPE_MESSAGE, wrappingAlgorithmName } from './key-rules';

/** Each way a parameter can be wrong, as the core names it, and its Tencent code. */
const PARAM_CODES: Record<InvalidParameterKind, string> = {
  generic: 'InvalidParameter',
  value: 'InvalidParameterValue',
  malformedKeyId: 'InvalidParameterValue.InvalidKeyId',
  badAlias: 'InvalidParameterValue.InvalidAlias',
  unknownKeyUsage: 'InvalidParameterValue.InvalidKeyUsage',
  unknownOrigin: 'InvalidParameterValue.InvalidType',
  plaintextTooLarge: 'InvalidParameterValue.InvalidPlaintext',
  repeatedKeyId: 'InvalidParameterValue.DuplicatedKeyId',
  emptyTag: 'InvalidParameterValue.TagsNotExisted',
  repeatedTagKey: 'InvalidParameterValue.TagKeysDuplicated',
  deletionWindow: 'InvalidParameter.InvalidPendingWindowInDays',
};

/** Where the core's words are not this API's: the origin is CreateKey's Type here. */
const paramMessage = (e: InvalidParameterError): string => (e.kind === 'unknownOrigin' ? TYPE_MESSAGE : e.message);

/** The one place where core errors become Tencent codes. Unknown errors are logged and become InternalError without detail. */
export function toTencentError(e: unknown, requestId: string, action?: string): TencentError {
  if (e instanceof TencentError) return e;
  if (e instanceof InvalidParameterError) return new TencentError(PARAM_CODES[e.kind], paramMessage(e));
  if (e instanceof KeyNotFoundError) return new TencentError('ResourceUnavailable.CmkNotFound', e.message);
  if (e instanceof KeyDisabledError) return new TencentError('ResourceUnavailable.CmkDisabled', e.message);
  if (e instanceof KeyStateError) return new TencentError('ResourceUnavailable.CmkStateNotSupport', e.message);
  if (e instanceof KeyShouldBeDisabledError) return new TencentError('ResourceUnavailable.CmkShouldBeDisabled', e.message);
  if (e instanceof KeyNotPendingDeleteError) return new TencentError('ResourceUnavailable.CmkNotPendingDelete', e.message);
  if (e instanceof KeyInUseError) return new TencentError('FailedOperation.CmkUsedByCloudProduct', e.message);
  if (e instanceof BindingNotFoundError) return new TencentError('ResourceUnavailable.CloudResourceBindingNotFound', e.message);
  if (e instanceof InvalidCiphertextError) return new TencentError('InvalidParameterValue.InvalidCiphertext', e.message);
  if (e instanceof AliasAlreadyExistsError) return new TencentError('InvalidParameterValue.AliasAlreadyExists', e.message);
  if (e instanceof CmkLimitExceededError) return new TencentError('LimitExceeded.CmkLimitExceeded', e.message);
  // RotateKey documents no codes; LimitExceeded is the document's common code for a quota.
  if (e instanceof KeyVersionLimitError) return new TencentError('LimitExceeded', e.message);
  if (e instanceof UnsupportedKeyUsageError) return new TencentError('UnsupportedOperation.UnsupportedKeyUsageInCurrentRegion', e.message);
  if (e instanceof UnauthorizedError) return new TencentError('UnauthorizedOperation', e.message);
  if (e instanceof ExternalKeyCannotRotateError) return new TencentError('UnsupportedOperation.ExternalCmkCanNotRotate', e.message);
  if (e instanceof NotExternalKeyError) return new TencentError('UnsupportedOperation.NotExternalCmk', e.message);
  if (e instanceof ImportTokenExpiredError) return new TencentError('ResourceUnavailable.TokenExpired', e.message);
  if (e instanceof MaterialDecryptError) return new TencentError('InvalidParameter.DecryptMaterialError', e.message);
  if (e instanceof MaterialMismatchError) return new TencentError('InvalidParameterValue.MaterialNotMatch', e.message);
  if (e instanceof UnsupportedWrappingAlgorithmError) {
    const supported = e.supported.map(wrappingAlgorithmName).join(', ');
    return new TencentError('InvalidParameter', `this service's HSM cannot unwrap with ${wrappingAlgorithmName(e.algorithm)}; it supports ${supported || 'no wrapping algorithm'}`);
  }
  if (e instanceof ServiceUnavailableError) return new TencentError('UnsupportedOperation.ServiceTemporaryUnavailable', e.message);
  Log.error('internal error', { requestId, action, error: e instanceof Error ? `${e.name}: ${e.message}` : String(e) });
  // Decrypt, ReEncrypt and GetParametersForImport document InternalServerError where the others document InternalError.
  return new TencentError(action === 'Decrypt' || action === 'ReEncrypt' || action === 'GetParametersForImport' ? 'InternalServerError' : 'InternalError', `internal error; quote RequestId ${requestId}`);
}

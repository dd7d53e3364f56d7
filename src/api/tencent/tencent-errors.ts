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
} from '../../common/domain-errors';
import { Log } from '../../common/logger';
import { TencentError } from './tencent-error';

const PARAM_CODES: Record<InvalidParameterError['kind'], string> = {
  generic: 'InvalidParameter',
  value: 'InvalidParameterValue',
  keyId: 'InvalidParameterValue.InvalidKeyId',
  alias: 'InvalidParameterValue.InvalidAlias',
  keyUsage: 'InvalidParameterValue.InvalidKeyUsage',
  type: 'InvalidParameterValue.InvalidType',
  plaintext: 'InvalidParameterValue.InvalidPlaintext',
  duplicatedKeyId: 'InvalidParameterValue.DuplicatedKeyId',
  tagsNotExisted: 'InvalidParameterValue.TagsNotExisted',
  tagKeysDuplicated: 'InvalidParameterValue.TagKeysDuplicated',
  pendingWindow: 'InvalidParameter.InvalidPendingWindowInDays',
};

/** The one place where core errors become Tencent codes. Unknown errors are logged and become InternalError without detail. */
export function toTencentError(e: unknown, requestId: string, action?: string): TencentError {
  if (e instanceof TencentError) return e;
  if (e instanceof InvalidParameterError) return new TencentError(PARAM_CODES[e.kind], e.message);
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
  if (e instanceof ServiceUnavailableError) return new TencentError('UnsupportedOperation.ServiceTemporaryUnavailable', e.message);
  Log.error('internal error', { requestId, action, error: e instanceof Error ? `${e.name}: ${e.message}` : String(e) });
  // Decrypt, ReEncrypt and GetParametersForImport document InternalServerError where the others document InternalError.
  return new TencentError(action === 'Decrypt' || action === 'ReEncrypt' || action === 'GetParametersForImport' ? 'InternalServerError' : 'InternalError', `internal error; quote RequestId ${requestId}`);
}

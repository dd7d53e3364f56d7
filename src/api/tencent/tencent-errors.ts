import {
  AliasAlreadyExistsError,
  BindingNotFoundError,
  DefaultKeyError,
  KeyBusyError,
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
  KeyUsageMismatchError,
  UnsupportedAlgorithmError,
  AsymmetricDecryptError,
} from '../../common/domain-errors';
import { Log } from '../../common/logger';
import { TencentError } from './tencent-error';
import { TYPE_MESSAGE, USAGE_MESSAGE, usageName, wrappingAlgorithmName } from './key-rules';
import { isDatabaseUnavailable } from '../../persistence/database-errors';

/** Each way a parameter can be wrong, as the core names it, and its Tencent code. */
const PARAM_CODES: Record<InvalidParameterKind, string> = {
  generic: 'InvalidParameter',
  value: 'InvalidParameterValue',
  malformedKeyId: 'InvalidParameterValue.InvalidKeyId',
  badAlias: 'InvalidParameterValue.InvalidAlias',
  unknownKeyUsage: 'InvalidParameterValue.InvalidKeyUsage',
  unknownOrigin: 'InvalidParameterValue.InvalidType',
  originNotForUsage: 'InvalidParameterValue.InvalidType',
  plaintextTooLarge: 'InvalidParameterValue.InvalidPlaintext',
  repeatedKeyId: 'InvalidParameterValue.DuplicatedKeyId',
  emptyTag: 'InvalidParameterValue.TagsNotExisted',
  repeatedTagKey: 'InvalidParameterValue.TagKeysDuplicated',
  deletionWindow: 'InvalidParameter.InvalidPendingWindowInDays',
};

/** A key used against its usage: the action's own documented code, else the generic parameter code. */
const USAGE_MISMATCH_CODES: Readonly<Record<string, string>> = {
  AsymmetricRsaDecrypt: 'InvalidParameterValue.InvalidKeyUsage',
  AsymmetricSm2Decrypt: 'InvalidParameterValue.InvalidKeyUsage',
  EnableKeyRotation: 'InvalidParameterValue',
};

/** The core's field ids (listed at InvalidParameterError) as this API's parameters. */
const PARAM_NAMES: Readonly<Record<string, string>> = {
  keyId: 'KeyId',
  keyIds: 'KeyIds',
  destinationKeyId: 'DestinationKeyId',
  alias: 'Alias',
  description: 'Description',
  keyUsage: 'KeyUsage',
  origin: 'Type',
  pendingWindowDays: 'PendingWindowInDays',
  rotationPeriodDays: 'RotateDays',
  plaintext: 'Plaintext',
  encryptionContext: 'EncryptionContext',
  sourceEncryptionContext: 'SourceEncryptionContext',
  destinationEncryptionContext: 'DestinationEncryptionContext',
  randomBytes: 'NumberOfBytes',
  dataKeySpec: 'KeySpec',
  dataKeyBytes: 'NumberOfBytes',
  encryptionAlgorithm: 'EncryptionAlgorithm',
  encryptionPublicKey: 'EncryptionPublicKey',
  wrappingAlgorithm: 'WrappingAlgorithm',
  wrappingKeySpec: 'WrappingKeySpec',
  validTo: 'ValidTo',
  productId: 'ProductId',
  message: 'Message',
  resourceId: 'ResourceId',
  tags: 'TagFilters',
  search: 'SearchKeyAlias',
};
const paramName = (fieldId: string): string => PARAM_NAMES[fieldId] ?? fieldId;

/** The message in this API's parameter names; the origin is CreateKey's Type here, and usages have this API's names, each with its own wording. */
const paramMessage = (e: InvalidParameterError): string => (e.kind === 'unknownOrigin' ? TYPE_MESSAGE : e.kind === 'unknownKeyUsage' ? USAGE_MESSAGE : e.render(paramName));

/** The actions that document InternalServerError where the others document InternalError. */
const INTERNAL_SERVER_ERROR_ACTIONS = new Set(['Decrypt', 'ReEncrypt', 'GetParametersForImport', 'SignByAsymmetricKey', 'GenerateAsymmetricKeyPair', 'AsymmetricSm2Decrypt', 'AsymmetricSm2Encrypt']);

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
  // Documented as "only CMKs the user created can be updated": a default key was made for a service.
  if (e instanceof DefaultKeyError) return new TencentError('UnsupportedOperation.NotUserCreatedCmk', e.message);
  if (e instanceof BindingNotFoundError) return new TencentError('ResourceUnavailable.CloudResourceBindingNotFound', e.message);
  if (e instanceof InvalidCiphertextError) return new TencentError('InvalidParameterValue.InvalidCiphertext', e.message);
  if (e instanceof AliasAlreadyExistsError) return new TencentError('InvalidParameterValue.AliasAlreadyExists', e.message);
  if (e instanceof CmkLimitExceededError) return new TencentError('LimitExceeded.CmkLimitExceeded', e.message);
  // RotateKey documents no codes; LimitExceeded is the document's common code for a quota.
  if (e instanceof KeyVersionLimitError) return new TencentError('LimitExceeded', e.message);
  if (e instanceof UnsupportedKeyUsageError) return new TencentError('UnsupportedOperation.UnsupportedKeyUsageInCurrentRegion', e.render(usageName));
  if (e instanceof UnauthorizedError) return new TencentError('UnauthorizedOperation', e.message);
  if (e instanceof ExternalKeyCannotRotateError) return new TencentError('UnsupportedOperation.ExternalCmkCanNotRotate', e.message);
  if (e instanceof NotExternalKeyError) return new TencentError('UnsupportedOperation.NotExternalCmk', `CMK ${e.keyId} has material made by KMS (Origin KMS); only EXTERNAL keys (CreateKey Type 2) take imported material`);
  if (e instanceof ImportTokenExpiredError) return new TencentError('ResourceUnavailable.TokenExpired', 'the ImportToken has expired or was replaced by a newer GetParametersForImport; call GetParametersForImport again');
  if (e instanceof MaterialDecryptError) return new TencentError('InvalidParameter.DecryptMaterialError', e.message);
  if (e instanceof MaterialMismatchError) return new TencentError('InvalidParameterValue.MaterialNotMatch', e.message);
  if (e instanceof UnsupportedWrappingAlgorithmError) {
    const supported = e.supported.map(wrappingAlgorithmName).join(', ');
    return new TencentError('InvalidParameter', `this service's HSM cannot unwrap with ${wrappingAlgorithmName(e.algorithm)}; it supports ${supported || 'no wrapping algorithm'}`);
  }
  if (e instanceof KeyUsageMismatchError) return new TencentError(USAGE_MISMATCH_CODES[action ?? ''] ?? 'InvalidParameter', e.render(usageName));
  if (e instanceof UnsupportedAlgorithmError) return new TencentError('InvalidParameter', e.message);
  if (e instanceof AsymmetricDecryptError) return new TencentError('FailedOperation.DecryptError', e.message);
  if (e instanceof ServiceUnavailableError) return new TencentError('UnsupportedOperation.ServiceTemporaryUnavailable', e.message);
  if (isDatabaseUnavailable(e)) return new TencentError('UnsupportedOperation.ServiceTemporaryUnavailable', 'the database is unavailable; retry later');
  // Documented on the actions that write a key as the service's retry-later code.
  if (e instanceof KeyBusyError) return new TencentError('UnsupportedOperation.ServiceTemporaryUnavailable', e.message);
  Log.error('internal error', { requestId, action, error: e instanceof Error ? `${e.name}: ${e.message}` : String(e) });
  return new TencentError(INTERNAL_SERVER_ERROR_ACTIONS.has(action ?? '') ? 'InternalServerError' : 'InternalError', `internal error; quote RequestId ${requestId}`);
}

import {
  AccessTokenRefusal,
  AccessTokenRefusedError,
  AliasAlreadyExistsError,
  BindingNotFoundError,
  CmkLimitExceededError,
  DefaultKeyError,
  ExternalKeyCannotRotateError,
  ImportTokenExpiredError,
  ImportTokenOtherKeyError,
  InvalidCiphertextError,
  InvalidParameterError,
  InvalidParameterKind,
  KeyDisabledError,
  KeyBusyError,
  KeyInUseError,
  KeyNotFoundError,
  KeyNotPendingDeleteError,
  KeyShouldBeDisabledError,
  KeyStateError,
  KeyVersionLimitError,
  TagLimitError,
  MaterialDecryptError,
  MaterialMismatchError,
  NotExternalKeyError,
  ServiceUnavailableError,
  UnauthorizedError,
  UnsupportedKeyUsageError,
  KeyUsageMismatchError,
  UnsupportedWrappingAlgorithmError,
} from '../../common/domain-errors';
import { Log } from '../../common/logger';
import { RequestSignatureError, SignatureFault } from '../../http/hmac-request-verifier';
import { CodeName, HuaweiError, huaweiError } from './huawei-error';
import { usageName, wrappingAlgorithmName } from './key-rules';
import { isDatabaseUnavailable } from '../../persistence/database-errors';

/** Each way a parameter can be wrong, as the core names it, and this API's code. */
const PARAM_CODES: Record<InvalidParameterKind, CodeName> = {
  generic: 'invalid',
  value: 'invalid',
  malformedKeyId: 'badKeyId',
  badAlias: 'badAlias',
  unknownKeyUsage: 'invalid',
  unknownOrigin: 'invalid',
  originNotForUsage: 'invalid',
  plaintextTooLarge: 'invalid',
  repeatedKeyId: 'invalid',
  emptyTag: 'badTagKeyLength',
  repeatedTagKey: 'badTagList',
  deletionWindow: 'badPendingDays',
};

/** Core fields (by the core's field ids) whose errors have a code of their own here. */
const FIELD_CODES: Record<string, CodeName> = { description: 'badDescription', encryptionContext: 'badContext', validTo: 'badExpiration', matches: 'badMatchValue' };

/** The core's field ids in this API's names, for messages. */
const PARAM_NAMES: Readonly<Record<string, string>> = {
  keyId: 'key_id',
  alias: 'key_alias',
  description: 'key_description',
  keyUsage: 'key_usage',
  origin: 'origin',
  pendingWindowDays: 'pending_days',
  plaintext: 'plain_text',
  encryptionContext: 'encryption_context',
  randomBytes: 'random_data_length',
  dataKeySpec: 'key_spec',
  dataKeyBytes: 'datakey_length',
  wrappingAlgorithm: 'wrapping_algorithm',
  validTo: 'expiration_time',
};

function paramError(e: InvalidParameterError): HuaweiError {
  const name = e.kind === 'generic' || e.kind === 'value' ? (FIELD_CODES[e.field] ?? PARAM_CODES[e.kind]) : PARAM_CODES[e.kind];
  return huaweiError(name, e.render((id) => PARAM_NAMES[id] ?? id));
}

/** X-Auth-Token refusals: one not issued here (or revoked) is invalid, an old one expired. */
const TOKEN_CODES: Record<AccessTokenRefusal, CodeName> = { malformed: 'badCredentials', unknown: 'badCredentials', revoked: 'badCredentials', expired: 'expired' };

/** AK/SK signature refusals (the verifier every signed face shares). */
const SIGNATURE_CODES: Record<SignatureFault, CodeName> = {
  unsigned: 'noCredentials',
  malformed: 'noCredentials',
  expired: 'expired',
  unknownCredential: 'badCredentials',
  unsignedBody: 'badCredentials',
  badPath: 'badUrl',
  mismatch: 'badCredentials',
  replayed: 'badCredentials',
  registerFull: 'throttled',
};

function signatureError(e: RequestSignatureError): HuaweiError {
  if (e.fault === 'unsigned') return huaweiError('noCredentials', 'the request carries neither X-Auth-Token nor an AK/SK signature (Authorization)');
  return huaweiError(SIGNATURE_CODES[e.fault], e.message);
}

/** A state refusal: a pending deletion and a disabled key have codes of their own. */
function stateError(e: KeyStateError): HuaweiError {
  // Import and material deletion have codes of their own whatever the state.
  if (e.operation === 'Import') return huaweiError('notPendingImport', e.message);
  if (e.operation === 'DeleteMaterial') return huaweiError('materialNotDeletable', e.message);
  if (e.operation === 'ScheduleDeletion' && e.state === 'PendingDelete') return huaweiError('alreadyPendingDeletion', 'the key is already pending deletion');
  if (e.state === 'PendingDelete') return huaweiError('keyPendingDeletion', e.message);
  // enable-key and disable-key take only a key in the opposite state.
  if (e.operation === 'Enable') return huaweiError('notDisabled', `the key is not disabled; ${e.message}`);
  if (e.operation === 'Disable') return huaweiError('notEnabled', `the key is not enabled; ${e.message}`);
  if (e.state === 'Disabled') return huaweiError('keyDisabled', e.message);
  return huaweiError('notEnabled', e.message);
}

/** The one place where core errors become this API's codes. Unknown errors are logged and become KMS.0101 without detail. */
export function toHuaweiError(e: unknown, requestId: string, operation?: string): HuaweiError {
  if (e instanceof HuaweiError) return e;
  if (e instanceof InvalidParameterError) return paramError(e);
  if (e instanceof RequestSignatureError) return signatureError(e);
  if (e instanceof AccessTokenRefusedError) return huaweiError(TOKEN_CODES[e.reason], e.message);
  if (e instanceof DefaultKeyError) return huaweiError('defaultKey', e.message);
  // A key of another account or project is answered as an unknown id: nothing tells them apart.
  if (e instanceof KeyNotFoundError) return huaweiError('badKeyId', e.message);
  if (e instanceof KeyDisabledError) return huaweiError('keyDisabled', e.message);
  if (e instanceof KeyStateError) return stateError(e);
  if (e instanceof KeyShouldBeDisabledError) return huaweiError('notDisabled', e.message);
  if (e instanceof KeyNotPendingDeleteError) return huaweiError('notPendingDeletion', e.message);
  if (e instanceof InvalidCiphertextError) return huaweiError('badCipherText', e.message);
  if (e instanceof AliasAlreadyExistsError) return huaweiError('aliasTaken', e.message);
  if (e instanceof CmkLimitExceededError) return huaweiError('tooManyKeys', e.message);
  if (e instanceof UnauthorizedError) return huaweiError('denied', e.message);
  if (e instanceof NotExternalKeyError) return huaweiError('notExternal', e.message);
  if (e instanceof ExternalKeyCannotRotateError) return huaweiError('externalNoRotation', e.message);
  if (e instanceof ImportTokenOtherKeyError) return huaweiError('importTokenOtherKey', e.message);
  if (e instanceof ImportTokenExpiredError) return huaweiError('importTokenExpired', e.message);
  if (e instanceof TagLimitError) return huaweiError('tooManyTags', e.message);
  if (e instanceof MaterialDecryptError) return huaweiError('materialDecrypt', e.message);
  if (e instanceof MaterialMismatchError) return huaweiError('materialMismatch', e.message);
  if (e instanceof UnsupportedWrappingAlgorithmError) {
    return huaweiError('invalid', `the HSM cannot unwrap with ${wrappingAlgorithmName(e.algorithm)}; it supports ${e.supported.map(wrappingAlgorithmName).join(', ') || 'no wrapping algorithm'}`);
  }
  // Refusals the document has no code of their own for.
  if (e instanceof UnsupportedKeyUsageError || e instanceof KeyUsageMismatchError) return huaweiError('invalid', e.render(usageName));
  if (e instanceof KeyInUseError || e instanceof BindingNotFoundError || e instanceof KeyVersionLimitError) return huaweiError('invalid', e.message);
  if (e instanceof ServiceUnavailableError) return huaweiError('unavailable', e.message);
  if (isDatabaseUnavailable(e)) return huaweiError('unavailable', 'the database is unavailable; retry later');
  // Appendix A.2 has no contention code; KMS.0102 is the one this face answers for "retry later".
  if (e instanceof KeyBusyError) return huaweiError('unavailable', e.message);
  Log.error('internal error', { requestId, operation, error: e instanceof Error ? `${e.name}: ${e.message}` : String(e) });
  return huaweiError('internal', `internal error; quote request id ${requestId}`);
}

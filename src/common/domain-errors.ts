/**
 * The one error hierarchy of the core. Faces map these to their own codes in exactly one
 * place each (see src/api/tencent/tencent-errors.ts); the core never knows a face's codes.
 */
export abstract class DomainError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** A parameter is missing, of the wrong type, or out of range. `field` names it. */
export class InvalidParameterError extends DomainError {
  constructor(readonly field: string, message: string, readonly kind: InvalidParameterKind = 'generic') {
    super(message);
  }
}
export type InvalidParameterKind =
  | 'generic'
  | 'value'
  | 'keyId'
  | 'alias'
  | 'keyUsage'
  | 'type'
  | 'plaintext'
  | 'duplicatedKeyId'
  | 'tagsNotExisted'
  | 'tagKeysDuplicated'
  | 'pendingWindow';

export class AliasAlreadyExistsError extends DomainError {}
export class KeyNotFoundError extends DomainError {
  constructor(keyId: string) {
    super(`no CMK ${keyId} in this account and region`);
  }
}
export class KeyDisabledError extends DomainError {}
/** The key's state forbids the operation. */
export class KeyStateError extends DomainError {
  constructor(readonly state: string, readonly operation: string) {
    super(`the CMK is ${state}; ${operation} is not allowed in that state`);
  }
}
/** ScheduleKeyDeletion of a key that is still usable. */
export class KeyShouldBeDisabledError extends DomainError {}
export class KeyNotPendingDeleteError extends DomainError {}
/** The key is bound to a cloud resource (BindCloudResource) and must stay usable. */
export class KeyInUseError extends DomainError {}
export class BindingNotFoundError extends DomainError {}
export class InvalidCiphertextError extends DomainError {}
export class CmkLimitExceededError extends DomainError {}
/** A key already has as many versions as KMS_MAX_KEY_VERSIONS allows. */
export class KeyVersionLimitError extends DomainError {}
export class UnsupportedKeyUsageError extends DomainError {}
export class UnauthorizedError extends DomainError {}
/** The token is unreachable; callers should retry later. */
export class ServiceUnavailableError extends DomainError {}
/** Rotation of a key whose material was imported: only its owner can bring new material. */
export class ExternalKeyCannotRotateError extends DomainError {}
/** Imported material for a key whose material KMS made (Origin KMS). */
export class NotExternalKeyError extends DomainError {}
/** The ImportToken is not the key's current one, or its 24 hours have passed. */
export class ImportTokenExpiredError extends DomainError {}
/** The token cannot decrypt the EncryptedKeyMaterial with the wrapping key. */
export class MaterialDecryptError extends DomainError {}
/** Material imported again differs from what the key was imported with. */
export class MaterialMismatchError extends DomainError {}

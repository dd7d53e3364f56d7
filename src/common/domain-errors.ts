import type { WrappingAlgorithm } from '../hsm/key-store';

/**
 * The one error hierarchy of the core, in the core's own words: what went wrong, never a
 * face's code. Each face maps these to its codes in exactly one place (its errors module under
 * src/api/).
 */
export abstract class DomainError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** A parameter is wrong; `field` names it and `kind` says how. */
export class InvalidParameterError extends DomainError {
  constructor(readonly field: string, message: string, readonly kind: InvalidParameterKind = 'generic') {
    super(message);
  }
}
export type InvalidParameterKind =
  /** Missing, of the wrong type or form, or out of range. */
  | 'generic'
  /** Well-formed, but a value the operation refuses. */
  | 'value'
  /** Not the form of a key id. */
  | 'malformedKeyId'
  /** An alias the core cannot store (its generic bound). */
  | 'badAlias'
  | 'unknownKeyUsage'
  /** Not one of KEY_ORIGINS. */
  | 'unknownOrigin'
  | 'plaintextTooLarge'
  /** A list of key ids names one twice. */
  | 'repeatedKeyId'
  /** A tag with an empty key or value. */
  | 'emptyTag'
  /** Two tags with the same key. */
  | 'repeatedTagKey'
  /** A deletion window outside what the core allows. */
  | 'deletionWindow';

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
/** Imported material for a key whose material the service made (origin KMS). */
export class NotExternalKeyError extends DomainError {}
/** The import token is not the key's current one, or its 24 hours have passed. */
export class ImportTokenExpiredError extends DomainError {}
/** The token cannot decrypt the wrapped material with the wrapping key. */
export class MaterialDecryptError extends DomainError {}
/** Material imported again differs from what the key was imported with. */
export class MaterialMismatchError extends DomainError {}
/** The token cannot unwrap with `algorithm`; `supported` lists what it can, in the core's names. */
export class UnsupportedWrappingAlgorithmError extends DomainError {
  constructor(readonly algorithm: WrappingAlgorithm, readonly supported: readonly WrappingAlgorithm[]) {
    super(`the HSM cannot unwrap with ${algorithm}; it supports ${supported.join(', ') || 'no wrapping algorithm'}`);
  }
}

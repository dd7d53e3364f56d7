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

/**
 * A parameter is wrong: `field` names it by one of the core's field ids and `kind` says how.
 * The message names fields through `name`, never by a face's parameter names: `message`
 * shows the ids, and a face renders its own names with `render`, mapping ids in one place.
 *
 * Field ids (a face maps each to its parameter):
 *   keyId, keyIds, destinationKeyId  a key id; a list of them; ReEncrypt's destination key
 *   alias, description, keyUsage     a key's alias, description and usage
 *   origin                           where a key's material comes from (KEY_ORIGINS)
 *   pendingWindowDays                days before a scheduled deletion
 *   rotationPeriodDays               days between automatic rotations
 *   plaintext                        data to encrypt
 *   encryptionContext, sourceEncryptionContext, destinationEncryptionContext
 *                                    the JSON context bound to a ciphertext (ReEncrypt has two)
 *   randomBytes                      how many random bytes to generate
 *   dataKeySpec, dataKeyBytes        a data key's named spec, or its length in bytes
 *   encryptionAlgorithm, encryptionPublicKey
 *                                    the algorithm and PEM public key a plaintext is returned encrypted to
 *   wrappingAlgorithm, wrappingKeySpec
 *                                    how imported material is wrapped, and the wrapping key's spec
 *   validTo                          when imported material expires (Unix seconds; 0 never)
 *   message, signature, signingAlgorithm, ciphertext, decryptionAlgorithm
 *                                    what an asymmetric key signs or verifies, a signature, and the
 *                                    algorithms; what it decrypts
 *   productId, resourceId            a cloud resource bound to a key
 *   Tags                             tags (named by the tag checks)
 *   tags, search, matches            a key search: its tag filters, and text searched for in aliases
 */
export class InvalidParameterError extends DomainError {
  private readonly say: FieldMessage;

  constructor(readonly field: string, message: string | FieldMessage, readonly kind: InvalidParameterKind = 'generic') {
    super(typeof message === 'string' ? message : message(fieldId));
    this.say = typeof message === 'string' ? () => message : message;
  }

  /** The message with each field named as `name` says (a face's parameter names). */
  render(name: (fieldId: string) => string): string {
    return this.say(name);
  }
}
/** A message that names fields by `name(fieldId)`, so that each face can render its own names. */
export type FieldMessage = (name: (fieldId: string) => string) => string;
const fieldId = (id: string): string => id;

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
  /** One of KEY_ORIGINS, but not one keys of the requested usage can have (imported key pairs). */
  | 'originNotForUsage'
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
/**
 * The key kept changing under the request: other writers won every round of its conditional
 * write, or changed the key between its steps. Nothing was written; the call may be retried.
 */
export class KeyBusyError extends DomainError {
  constructor(readonly operation: string) {
    super(`the CMK was changed by other requests while ${operation} ran; nothing was changed, retry later`);
  }
}
/** ScheduleKeyDeletion of a key that is still usable. */
export class KeyShouldBeDisabledError extends DomainError {}
export class KeyNotPendingDeleteError extends DomainError {}
/** The key is bound to a cloud resource (BindCloudResource) and must stay usable. */
export class KeyInUseError extends DomainError {}
export class BindingNotFoundError extends DomainError {}
/** A default key cannot be disabled, deleted, renamed or re-described. */
export class DefaultKeyError extends DomainError {}
export class InvalidCiphertextError extends DomainError {}
export class CmkLimitExceededError extends DomainError {}
/** A tag change would leave a key with more tags than allowed (the core's bound or the face's). */
export class TagLimitError extends DomainError {}
/** A key already has as many versions as KMS_MAX_KEY_VERSIONS allows. */
export class KeyVersionLimitError extends DomainError {}
/** A message about a key usage, given the usage's name (the core's, or a face's for the core's KEY_USAGES). */
export type UsageMessage = (usageName: string) => string;

/** Keys of `usage` (one of KEY_USAGES) cannot be made or used here: not offered, or not possible with this token. */
export class UnsupportedKeyUsageError extends DomainError {
  constructor(readonly usage: string, private readonly say: UsageMessage) {
    super(say(usage));
  }

  /** The message with the usage named as `name` says (a face's names). */
  render(name: (usage: string) => string): string {
    return this.say(name(this.usage));
  }
}
/** The key's usage does not allow the operation (signing with a decryption key, Encrypt with a signing key ...). */
export class KeyUsageMismatchError extends DomainError {
  constructor(readonly keyUsage: string, readonly operation: string) {
    super(`the CMK's usage is ${keyUsage}; it cannot be used for ${operation}`);
  }

  /** The message with the usage named as `name` says (a face's names). */
  render(name: (usage: string) => string): string {
    return `the CMK's usage is ${name(this.keyUsage)}; it cannot be used for ${this.operation}`;
  }
}
/** An asymmetric key's algorithm the token cannot perform, or that does not fit the key. */
export class UnsupportedAlgorithmError extends DomainError {}
/** The ciphertext does not decrypt under the key pair with the algorithm. */
export class AsymmetricDecryptError extends DomainError {}
/** A signature that does not verify under the key pair (where a face answers that as an error, not as false). */
export class InvalidSignatureError extends DomainError {}
export class UnauthorizedError extends DomainError {}
/** The token is unreachable; callers should retry later. */
export class ServiceUnavailableError extends DomainError {}
/** Rotation of a key whose material was imported: only its owner can bring new material. */
export class ExternalKeyCannotRotateError extends DomainError {}
/** Imported material for a key whose material the service generated (origin generated). */
export class NotExternalKeyError extends DomainError {
  constructor(readonly keyId: string) {
    super(`CMK ${keyId} holds material the service made; only a key created for imported material (origin imported) takes it`);
  }
}
/** The import token is not the key's current one, or its 24 hours have passed. */
export class ImportTokenExpiredError extends DomainError {
  constructor(message = 'the import token has expired or was replaced by newer import parameters; ask for new import parameters') {
    super(message);
  }
}
/** The import token is a current one, but of another key of the caller's account and region (a face may tell this apart). */
export class ImportTokenOtherKeyError extends ImportTokenExpiredError {
  constructor(readonly otherKeyId: string, keyId: string) {
    super(`the import token was issued for another CMK (${otherKeyId}), not for ${keyId}`);
  }
}
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

/** Why an access token authenticates nobody. */
export type AccessTokenRefusal =
  /** Not of the form of a token. */
  | 'malformed'
  /** No such token (never issued, deleted, or its secret is wrong). */
  | 'unknown'
  /** The token, or its account, is disabled. */
  | 'revoked'
  /** Its lifetime is over. */
  | 'expired';
const REFUSALS: Record<AccessTokenRefusal, string> = {
  malformed: 'the access token is missing or malformed',
  unknown: 'the access token is not valid',
  revoked: 'the access token has been revoked',
  expired: 'the access token has expired',
};
export class AccessTokenRefusedError extends DomainError {
  constructor(readonly reason: AccessTokenRefusal) {
    super(REFUSALS[reason]);
  }
}

/** A multi-part operation's handle names none that is open for the caller (never opened, finished, aborted, expired, or another account's). */
export class StreamNotFoundError extends DomainError {
  constructor(message: string, readonly elsewhere = false) {
    super(message);
  }
}
/** The caller has as many multi-part operations open as it may. */
export class StreamLimitError extends DomainError {}
/** A multi-part operation would hold more data than the service buffers for one. */
export class StreamBufferLimitError extends DomainError {}

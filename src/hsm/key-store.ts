/**
 * What the core asks of key storage. The core names material by a stable id (the CMK
 * version id, also the token object's CKA_ID) and never sees a handle or a byte of it.
 *
 * Two storage modes fit behind this interface:
 * - token-resident (TokenKeyStore, today): the material is a token object found by CKA_ID;
 * - wrapped (later): the material is wrapped by a token-resident KEK, the wrapped blob is
 *   returned by `create*` for the caller to persist in `MaterialRef.wrapped`, and it is
 *   unwrapped into a session object on use.
 * The crypto module only passes MaterialRef through, so it needs no change for the second.
 */
export interface MaterialRef {
  id: string;
  /** Wrapped material, for the wrapped storage mode; absent for token-resident keys. */
  wrapped?: Buffer;
}

export interface CreatedMaterial {
  wrapped?: Buffer;
}

/** How a caller encrypts material to an import wrapping key (the core's names; faces map theirs). */
export const WRAPPING_ALGORITHMS = ['rsa-pkcs1-v1_5', 'rsa-oaep-sha1', 'rsa-oaep-sha256'] as const;
export type WrappingAlgorithm = (typeof WRAPPING_ALGORITHMS)[number];

/** Attributes of a token object as the token reports them (for audits and tests). */
export interface MaterialAttributes {
  sensitive: boolean;
  extractable: boolean;
  alwaysSensitive: boolean;
  neverExtractable: boolean;
  valueReadable: boolean;
}

/** One secret-key or private-key object of the token, as an audit sees it. */
export interface MaterialAudit extends MaterialAttributes {
  id: string;
  label: string;
  /** `secret`: CMK versions and service keys; `private`: import wrapping keys. */
  class: 'secret' | 'private';
}

export abstract class KeyStore {
  abstract createAes(ref: MaterialRef, label: string, bytes: 16 | 32): Promise<CreatedMaterial>;
  /** AES-256-GCM with a caller-chosen 96-bit IV; returns ciphertext || 16-byte tag. */
  abstract encrypt(ref: MaterialRef, iv: Buffer, aad: Buffer, plaintext: Buffer): Promise<Buffer>;
  /** Throws InvalidCiphertextError when the tag does not verify (wrong key, AAD or data). */
  abstract decrypt(ref: MaterialRef, iv: Buffer, aad: Buffer, sealed: Buffer): Promise<Buffer>;
  abstract destroy(ref: MaterialRef): Promise<void>;
  abstract exists(ref: MaterialRef): Promise<boolean>;
  /** Every secret and private key on the token with the attributes that keep it inside. */
  abstract audit(): Promise<MaterialAudit[]>;
  /** A new HMAC-SHA256 key (a generic secret that can only sign and verify), made in the token. */
  abstract createMacKey(ref: MaterialRef, label: string): Promise<void>;
  /** HMAC-SHA256 of `data`, computed inside the token. */
  abstract mac(ref: MaterialRef, data: Buffer): Promise<Buffer>;
  /** Whether `mac` is the HMAC-SHA256 of `data` under the key, checked inside the token. */
  abstract verifyMac(ref: MaterialRef, data: Buffer, mac: Buffer): Promise<boolean>;
  /** Bytes from the token's generator. */
  abstract random(bytes: number): Promise<Buffer>;
  /** The wrapping algorithms this token can unwrap with, as measured on it (not as its mechanism list claims). */
  abstract wrappingAlgorithms(): Promise<WrappingAlgorithm[]>;
  /** A new RSA-2048 pair whose private key (named by `ref`) can only unwrap; returns the public key as SubjectPublicKeyInfo DER. */
  abstract createWrappingKey(ref: MaterialRef, label: string): Promise<Buffer>;
  /**
   * Unwraps material encrypted to `wrappingKey` into a transient key, checks that it is
   * exactly `bytes` bytes, and computes its check value (a value the token computes from the
   * material: equal for equal material, and revealing nothing of it). Then `keep(checkValue)`
   * decides: true makes the material a persistent AES key `ref` (sensitive, never extractable,
   * encrypt and decrypt only); false, or a throw (which propagates), leaves nothing behind.
   * Material that does not decrypt or is not `bytes` long throws MaterialDecryptError, the
   * same whatever is wrong with it and after the same work (no padding oracle), before
   * anything persistent is made.
   */
  abstract importAes(
    ref: MaterialRef,
    label: string,
    bytes: 16 | 32,
    wrappingKey: MaterialRef,
    algorithm: WrappingAlgorithm,
    wrapped: Buffer,
    keep: (checkValue: Buffer) => boolean,
  ): Promise<ImportedMaterial>;
}

export interface ImportedMaterial extends CreatedMaterial {
  checkValue: Buffer;
  /** Whether `keep` asked for the persistent key, which now exists. */
  kept: boolean;
}

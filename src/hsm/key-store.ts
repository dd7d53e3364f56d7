import { Sm2Ciphertext } from './sm2-encoding';

/**
 * What the core asks of key storage. The core names material by a stable id (the CMK
 * version id, also the token object's CKA_ID) and never sees a handle or a byte of it.
 *
 * Two storage modes fit behind this interface (KMS_KEY_STORAGE, docs/key-storage.md):
 * - token: the material is a token object found by CKA_ID;
 * - wrapped: the material is wrapped by a token-resident KEK of its region, the wrapped blob
 *   is returned by `create*` for the caller to persist in `MaterialRef.wrapped`, and it is
 *   unwrapped into a cached session object on use.
 * The core only passes MaterialRef through (and persists `wrapped`), whatever the mode.
 */
export interface MaterialRef {
  id: string;
  /** Wrapped material, for the wrapped storage mode; absent for token-resident keys. */
  wrapped?: Buffer;
  /** For new CMK material: the region, whose key-encryption key wraps it in wrapped mode. */
  region?: string;
  /** The CMK this is a version of, when known: a change to the key drops what the store keeps of it in memory. */
  key?: string;
  /** A key pair's public key as SubjectPublicKeyInfo DER; absent for secret keys. */
  publicKey?: Buffer;
}

export interface CreatedMaterial {
  wrapped?: Buffer;
  /** A key pair's public key as SubjectPublicKeyInfo DER, for the caller to persist in `MaterialRef.publicKey`. */
  publicKey?: Buffer;
}

/** The key pairs made in the token (the core's names; faces map theirs). */
export const PAIR_SPECS = ['rsa-2048', 'ec-p256'] as const;
export type PairSpec = (typeof PAIR_SPECS)[number];
/** The one thing a pair's private key may do: the token refuses it anything else. */
export type PairPurpose = 'decrypt' | 'sign';

/** Signatures over a SHA-256 digest: RSASSA-PSS (salt 32, MGF1-SHA-256), RSASSA-PKCS1-v1_5, ECDSA (DER, as OpenSSL and Node read it). */
export const SIGNING_ALGORITHMS = ['rsa-pss-sha256', 'rsa-pkcs1-sha256', 'ecdsa-sha256'] as const;
export type SigningAlgorithm = (typeof SIGNING_ALGORITHMS)[number];
/** The pair spec each signing algorithm needs. */
export const SIGNING_SPEC: Record<SigningAlgorithm, PairSpec> = { 'rsa-pss-sha256': 'rsa-2048', 'rsa-pkcs1-sha256': 'rsa-2048', 'ecdsa-sha256': 'ec-p256' };
/** RSA decryption uses the same paddings as unwrapping, with the same names. */
export type DecryptionAlgorithm = WrappingAlgorithm;

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
  /** `secret`: CMK versions, service keys and KEKs; `private`: import wrapping keys and asymmetric CMK versions. */
  class: 'secret' | 'private';
  /** The usage flags (CKA_ENCRYPT, CKA_SIGN ...) that are true, by their names without CKA_. */
  usages: string[];
  /** CKA_WRAP_WITH_TRUSTED: only a trusted key may wrap it (material that may move to wrapped storage). */
  wrapWithTrusted: boolean;
  /**
   * For a key-encryption key of wrapped storage: its attributes as the token reports them,
   * whether the token enforces CKA_WRAP_WITH_TRUSTED, and whether it refuses to unwrap under
   * this KEK into a readable key (its CKA_UNWRAP_TEMPLATE; false for KEKs of earlier releases).
   */
  kek?: { region: string; generation: number; active: boolean; trusted: boolean; private: boolean; modifiable: boolean; wrapWithTrustedEnforced: boolean; unwrapTemplateEnforced: boolean };
  /** Set where the object endangers CMK material, saying why (a public KEK a crash left). */
  critical?: string;
}

/** A persistent secret-key or private-key object of the token, as the reconciler sees it. */
export interface TokenObject {
  id: string;
  label: string;
}

/** A kind of secret key the store makes: AES of a size, or an HMAC-SHA256 key (sign and verify only). */
export type SecretKind = { family: 'aes'; bytes: 16 | 24 | 32 } | { family: 'hmac-sha256'; bytes: 32 };

/** One multi-part operation's parameters, in neutral terms. */
export type StreamSpec =
  | { op: 'encrypt' | 'decrypt'; cipher: 'aes-gcm'; iv: Buffer; aad: Buffer }
  | { op: 'encrypt' | 'decrypt'; cipher: 'aes-cbc' | 'aes-cbc-pad' | 'aes-ctr'; iv: Buffer }
  | { op: 'encrypt' | 'decrypt'; cipher: 'aes-ecb' }
  | { op: 'mac'; cipher: 'hmac-sha256' };

/**
 * A multi-part operation running in the token on a session of its own. Steps are taken one
 * at a time (the caller serializes them). `finish` and `abort` free the token session; after
 * a step that throws, the stream is finished too.
 */
export interface KeyStream {
  update(data: Buffer): Buffer;
  /** `tag`: an AEAD decryption's tag, given apart from the data. */
  finish(data: Buffer, tag?: Buffer): Buffer;
  abort(): void;
}

export abstract class KeyStore {
  abstract createAes(ref: MaterialRef, label: string, bytes: 16 | 24 | 32): Promise<CreatedMaterial>;
  /**
   * A key pair made in the token: the private key (named by `ref`) is sensitive, never
   * extractable, and can only do `purpose`; the public key comes back as SPKI DER (`publicKey`).
   */
  abstract createKeyPair(ref: MaterialRef, label: string, spec: PairSpec, purpose: PairPurpose): Promise<CreatedMaterial>;
  /** Signs a SHA-256 digest (32 bytes) inside the token; the signature is in the form OpenSSL verifies (ECDSA as DER). */
  abstract sign(ref: MaterialRef, algorithm: SigningAlgorithm, digest: Buffer): Promise<Buffer>;
  /** Whether `signature` (as `sign` makes it) signs `digest` under the public key `spki`; the token checks and compares. */
  abstract verify(spki: Buffer, algorithm: SigningAlgorithm, digest: Buffer, signature: Buffer): Promise<boolean>;
  /** RSA decryption inside the token; throws AsymmetricDecryptError when the ciphertext does not decrypt. */
  abstract decryptWithPair(ref: MaterialRef, algorithm: DecryptionAlgorithm, ciphertext: Buffer): Promise<Buffer>;
  /** The signing algorithms this token really performs, measured on it. */
  abstract signingAlgorithms(): Promise<SigningAlgorithm[]>;
  /** The RSA decryption algorithms this token really performs, measured on it. */
  abstract decryptionAlgorithms(): Promise<DecryptionAlgorithm[]>;
  /** The SM2 key-pair purposes this token can do: those its profile declares mechanisms for and its mechanism list shows. */
  abstract sm2Purposes(): PairPurpose[];
  /** An SM2 pair made in the token with the profile's mechanisms, as createKeyPair makes the others. */
  abstract createSm2Pair(ref: MaterialRef, label: string, purpose: PairPurpose): Promise<CreatedMaterial>;
  /**
   * An SM2 signature, r || s, of the digest e = SM3(Z || M); `message` M, when known, lets a
   * token that hashes inside sign it instead. Throws UnsupportedAlgorithmError for a digest
   * alone on such a token.
   */
  abstract sm2Sign(ref: MaterialRef, e: Buffer, message?: Buffer): Promise<Buffer>;
  /** Decrypts an SM2 ciphertext inside the token; throws AsymmetricDecryptError when it does not decrypt. */
  abstract sm2Decrypt(ref: MaterialRef, ciphertext: Sm2Ciphertext): Promise<Buffer>;
  /** AES-256-GCM with a caller-chosen 96-bit IV; returns ciphertext || 16-byte tag. */
  abstract encrypt(ref: MaterialRef, iv: Buffer, aad: Buffer, plaintext: Buffer): Promise<Buffer>;
  /** Throws InvalidCiphertextError when the tag does not verify (wrong key, AAD or data). */
  abstract decrypt(ref: MaterialRef, iv: Buffer, aad: Buffer, sealed: Buffer): Promise<Buffer>;
  /** Destroys token-resident material, and any session object kept for wrapped material in this process (its blob goes with its row). */
  abstract destroy(ref: MaterialRef): Promise<void>;
  /** Drops what this process keeps in memory of the key's material (the key changed somewhere). */
  abstract forgetKey(keyId: string): void;
  abstract exists(ref: MaterialRef): Promise<boolean>;
  /** Every secret and private key on the token with the attributes that keep it inside. */
  abstract audit(): Promise<MaterialAudit[]>;
  /** Every persistent secret and private key on the token, by CKA_ID and label (objects other processes made included). */
  abstract objects(): Promise<TokenObject[]>;
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
  /** A new secret key of `kind`, made in the token (sensitive, never extractable). */
  abstract createSecret(ref: MaterialRef, label: string, kind: SecretKind): Promise<CreatedMaterial>;
  /**
   * A persistent key of `kind` from plain material (exactly `kind.bytes`), made sensitive and
   * never extractable in the token; `material` is zeroed whatever happens.
   */
  abstract importSecret(ref: MaterialRef, label: string, kind: SecretKind, material: Buffer): Promise<CreatedMaterial>;
  /** Starts a multi-part operation with the key `ref`. Parameters are checked before the token sees them. */
  abstract openStream(ref: MaterialRef, spec: StreamSpec): Promise<KeyStream>;
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

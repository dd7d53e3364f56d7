/**
 * `hsm-kms/sdk`: envelope encryption over the service (seed 003's GM Encryption SDK in
 * TypeScript). Data is encrypted locally under data keys that the KMS generates and encrypts
 * under up to five master keys; see README.md and docs/sdk-message-format.md.
 */
export { Algorithm, BlockType } from './algorithms';
export { EncryptSDKError } from './errors';
export type { EncryptSDKErrorCode, MasterKeyFailure } from './errors';
export { KeyManager, DEFAULT_MSG_COUNT, DEFAULT_EXPIRE_SECONDS } from './key-manager';
export type { KeyManagerOptions, MasterKey } from './key-manager';
export type { EncryptedDataKey, MsgHead } from './message-format';
export { encrypt, decrypt } from './messages';
export type { DecryptOptions, DecryptResult, EncryptResult } from './messages';
export { createEncryptStream, createDecryptStream, EncryptStream, DecryptStream, DEFAULT_STREAM_BLOCK, DEFAULT_MAX_UNFRAMED_BYTES } from './streams';
export * from './local-crypto';

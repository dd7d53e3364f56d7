import { Algorithm } from './algorithms';
import { EncryptSDKError, MasterKeyFailure, invalidParameter } from './errors';
import { KeyManager, MasterKey } from './key-manager';
import { MessageReader, wipeKeys } from './message-codec';
import { MsgHead } from './message-format';
import { checkBlockSize, checkContext, checkKeyManager, opener, startMessage, toBuffer } from './message-session';

export interface EncryptResult {
  ciphertext: Buffer;
  header: MsgHead;
  /** The master key that generated the data key: the first usable one. */
  masterKey: MasterKey;
  /** Master keys that could not encrypt the data key (left out of the message). */
  skippedMasterKeys: MasterKeyFailure[];
}

export interface DecryptResult {
  plaintext: Buffer;
  header: MsgHead;
  /** The master key whose encryption of the data key the KMS decrypted. */
  masterKey: MasterKey;
}

export interface DecryptOptions {
  /** The encryption context the caller expects; a message under another one is refused (InvalidParameter). */
  encryptionContext?: string;
  /**
   * Decrypt streams only: the most plaintext an unframed message (blockSize 0 in `encrypt`) may
   * hold, since a stream holds its single frame whole (default 64 MiB, `DEFAULT_MAX_UNFRAMED_BYTES`).
   */
  maxUnframedBytes?: number;
}

/**
 * The seed's Encrypt: `plaintext` under a data key of the KeyManager's master keys, cut into
 * frames of `blockSize` bytes (0: one piece). An empty plaintext is InvalidParameter, as in the seed.
 */
export async function encrypt(plaintext: Buffer | Uint8Array | string, keyManager: KeyManager, algorithm: Algorithm, encryptionContext = '', blockSize = 0): Promise<EncryptResult> {
  const data = toBuffer(plaintext, 'plaintext');
  if (data.length === 0) throw invalidParameter('the plaintext is empty');
  const km = checkKeyManager(keyManager);
  const context = checkContext(encryptionContext);
  const block = checkBlockSize(blockSize);
  const m = await startMessage(km, algorithm, context, block, data.length);
  try {
    const parts = [m.header];
    if (block === 0) parts.push(m.writer.frame(data, true));
    else for (let at = 0; at < data.length; at += block) parts.push(m.writer.frame(data.subarray(at, at + block), at + block >= data.length));
    return { ciphertext: Buffer.concat(parts), header: m.head, masterKey: m.masterKey, skippedMasterKeys: m.skipped };
  } finally {
    wipeKeys(m.keys);
  }
}

/** The seed's Decrypt: the plaintext and the MsgHead of a message made by `encrypt` or an encrypt stream. */
export async function decrypt(ciphertext: Buffer | Uint8Array, keyManager: KeyManager, options: DecryptOptions = {}): Promise<DecryptResult> {
  if (typeof ciphertext === 'string') throw invalidParameter('ciphertext must be a Buffer or Uint8Array');
  const data = toBuffer(ciphertext, 'ciphertext');
  const km = checkKeyManager(keyManager);
  const expected = options.encryptionContext === undefined ? undefined : checkContext(options.encryptionContext);
  const reader = new MessageReader(opener(km, expected));
  try {
    const parts = await reader.push(data);
    reader.end();
    return { plaintext: Buffer.concat(parts), header: reader.parsedHeader!.head, masterKey: reader.info!.masterKey };
  } finally {
    reader.wipe();
  }
}

export { EncryptSDKError };

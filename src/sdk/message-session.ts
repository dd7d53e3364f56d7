import * as crypto from 'node:crypto';
import { BlockType, Suite, suiteOf } from './algorithms';
import { EncryptSDKError, MasterKeyFailure, invalidMessage, invalidParameter } from './errors';
import { KeyManager, MasterKey } from './key-manager';
import { FrameWriter, Opened, deriveKeys, headerMac, newMessageId, wipeKeys, MessageKeys } from './message-codec';
import { MAX_BLOCK_BYTES, MAX_CONTEXT_BYTES, MsgHead, ParsedHeader, encodeHeader } from './message-format';

/** What encrypting and decrypting share: argument checks, a message's start, a header's opening. */

/**
 * An encryption context: '' (none) or a flat JSON object of at most 1024 bytes, as the KMS
 * takes it (string, number, boolean or null values).
 */
export function checkContext(context: unknown, name = 'encryptionContext'): string {
  if (context === undefined || context === '') return '';
  if (typeof context !== 'string') throw invalidParameter(`${name} must be a JSON string`);
  if (Buffer.byteLength(context, 'utf8') > MAX_CONTEXT_BYTES) throw invalidParameter(`${name} is longer than ${MAX_CONTEXT_BYTES} bytes`);
  contextObject(context, name);
  return context;
}

function contextObject(context: string, name: string): Record<string, unknown> {
  let v: unknown;
  try {
    v = JSON.parse(context);
  } catch {
    throw invalidParameter(`${name} is not JSON: ${context}`);
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw invalidParameter(`${name} must be a JSON object of key/value pairs`);
  for (const [k, x] of Object.entries(v)) if (typeof x === 'object' && x !== null) throw invalidParameter(`${name}: the value of "${k}" is not a string, number, boolean or null`);
  return v as Record<string, unknown>;
}

/** The same pairs, whatever their order and spacing. */
function sameContext(a: string, b: string): boolean {
  const norm = (c: string) => (c === '' ? '' : JSON.stringify(Object.entries(contextObject(c, 'encryptionContext')).sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0))));
  return norm(a) === norm(b);
}

export function checkBlockSize(blockSize: unknown): number {
  if (blockSize === undefined) return 0;
  if (typeof blockSize !== 'number' || !Number.isSafeInteger(blockSize) || blockSize < 0 || blockSize > MAX_BLOCK_BYTES) throw invalidParameter(`blockSize must be 0 (no frames) or 1..${MAX_BLOCK_BYTES} bytes`);
  return blockSize;
}

export function checkKeyManager(km: unknown): KeyManager {
  if (!(km instanceof KeyManager)) throw invalidParameter('keyManager must be a KeyManager');
  return km;
}

/** A message under way: its header (with MAC) and the writer of its frames. */
export interface MessageStart {
  suite: Suite;
  head: MsgHead;
  header: Buffer;
  writer: FrameWriter;
  keys: MessageKeys;
  masterKey: MasterKey;
  skipped: MasterKeyFailure[];
  addBytes(n: number): void;
}

export async function startMessage(km: KeyManager, algorithm: unknown, context: string, blockLength: number, bytes: number): Promise<MessageStart> {
  const suite = suiteOf(algorithm);
  const m = await km.encryptionMaterials(suite, context, bytes);
  const messageId = newMessageId();
  const keys = deriveKeys(suite, m.dataKey, messageId);
  m.dataKey.fill(0);
  const head: MsgHead = {
    algorithm: suite.algorithm,
    encryptionContext: context,
    dataKeyNum: m.encryptedDataKeys.length,
    dataKey: m.encryptedDataKeys.map((k) => ({ ...k })),
    blockType: blockLength > 0 ? BlockType.WITH_BLOCK : BlockType.WITHOUT_BLOCK,
    blockLength,
  };
  const body = encodeHeader(head, messageId);
  return { suite, head, header: Buffer.concat([body, headerMac(suite, keys, body)]), writer: new FrameWriter(suite, keys, messageId), keys, masterKey: m.masterKey, skipped: m.skipped, addBytes: m.addBytes };
}

export interface DecryptInfo {
  masterKey: MasterKey;
}

/**
 * Opens a parsed header: checks the context the caller expects, decrypts the data key through
 * the KMS, derives the keys, and checks the header's MAC (InvalidMessage when it was changed).
 */
export function opener(km: KeyManager, expectedContext: string | undefined): (h: ParsedHeader) => Promise<Opened<DecryptInfo>> {
  return async (h) => {
    const context = h.head.encryptionContext;
    if (expectedContext !== undefined && !sameContext(expectedContext, context)) throw invalidParameter(`the message was encrypted under another encryption context than the one expected`);
    const m = await km.decryptionMaterials(h.suite, h.head.dataKey, context);
    const keys = deriveKeys(h.suite, m.dataKey, h.messageId);
    m.dataKey.fill(0);
    if (!crypto.timingSafeEqual(headerMac(h.suite, keys, h.body), h.mac)) {
      wipeKeys(keys);
      throw invalidMessage('the header\'s MAC does not match: the header was changed');
    }
    return { keys, info: { masterKey: m.masterKey } };
  };
}

export const toBuffer = (data: unknown, name: string): Buffer => {
  if (typeof data === 'string') return Buffer.from(data, 'utf8');
  if (data instanceof Uint8Array) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  throw invalidParameter(`${name} must be a Buffer, Uint8Array or string`);
};

export { EncryptSDKError };

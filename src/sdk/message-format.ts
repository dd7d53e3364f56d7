import { Algorithm, BlockType, MAC_BYTES, Suite, suiteOf } from './algorithms';
import { invalidMessage } from './errors';

/**
 * The binary message of docs/sdk-message-format.md: a header carrying the seed's MsgHead and a
 * message id, the header's MAC, then frames. Big-endian integers throughout.
 */

export const MAGIC = Buffer.from('KMSE', 'latin1');
export const FORMAT_VERSION = 1;
export const MESSAGE_ID_BYTES = 16;
export const MAX_CONTEXT_BYTES = 1024;
export const MAX_MASTER_KEYS = 5;
/** Largest frame (blockSize): frames are held whole in memory while they are checked. */
export const MAX_BLOCK_BYTES = 64 * 1024 * 1024;
export const FINAL_FRAME = 0x01;
/** seq u32, flags u8, ciphertext length u32. */
export const FRAME_PREFIX_BYTES = 9;

/** The seed's EncryptedDataKey: a CMK and the data key it encrypted (a CiphertextBlob, base64). */
export interface EncryptedDataKey {
  cmkRegion: string;
  cmkKeyId: string;
  dataKey: string;
}

/** The seed's MsgHead. */
export interface MsgHead {
  algorithm: Algorithm;
  encryptionContext: string;
  dataKeyNum: number;
  dataKey: EncryptedDataKey[];
  blockType: BlockType;
  blockLength: number;
}

export interface ParsedHeader {
  head: MsgHead;
  suite: Suite;
  messageId: Buffer;
  /** The header's bytes without its MAC: what the MAC covers. */
  body: Buffer;
  mac: Buffer;
  /** Header and MAC. */
  length: number;
}

const u8 = (n: number) => Buffer.from([n]);
function u16(n: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(n);
  return b;
}
export function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
}
const short = (s: string): Buffer[] => {
  const b = Buffer.from(s, 'utf8');
  return [u8(b.length), b];
};

/** The header without its MAC. */
export function encodeHeader(head: MsgHead, messageId: Buffer): Buffer {
  const ctx = Buffer.from(head.encryptionContext, 'utf8');
  const keys = head.dataKey.flatMap((k) => {
    const blob = Buffer.from(k.dataKey, 'base64');
    return [...short(k.cmkRegion), ...short(k.cmkKeyId), u16(blob.length), blob];
  });
  return Buffer.concat([MAGIC, u8(FORMAT_VERSION), u16(head.algorithm), u8(head.blockType), u32(head.blockLength), messageId, u16(ctx.length), ctx, u8(head.dataKey.length), ...keys]);
}

/** Reads fields off a buffer; `null` from `need` means the bytes have not all arrived yet. */
class Cursor {
  pos = 0;
  constructor(private readonly buf: Buffer) {}
  need(n: number): boolean {
    return this.pos + n <= this.buf.length;
  }
  take(n: number): Buffer {
    const b = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return b;
  }
}

const utf8 = (b: Buffer, what: string): string => {
  const s = b.toString('utf8');
  if (!Buffer.from(s, 'utf8').equals(b)) throw invalidMessage(`the header's ${what} is not UTF-8`);
  return s;
};

/**
 * The header at the start of `buf`, or null when `buf` ends before it does (a stream reads on).
 * Anything malformed is InvalidMessage; an algorithm value it does not know, CheckAlgorithmError.
 */
export function parseHeader(buf: Buffer): ParsedHeader | null {
  const c = new Cursor(buf);
  if (!c.need(MAGIC.length + 1)) return buf.length > 0 && !MAGIC.subarray(0, buf.length).equals(buf.subarray(0, MAGIC.length)) ? fail('it does not start with this SDK\'s magic "KMSE"') : null;
  if (!c.take(MAGIC.length).equals(MAGIC)) fail('it does not start with this SDK\'s magic "KMSE"');
  const version = c.take(1)[0];
  if (version !== FORMAT_VERSION) fail(`its format version is ${version}; this SDK reads version ${FORMAT_VERSION}`);
  if (!c.need(2 + 1 + 4 + MESSAGE_ID_BYTES + 2)) return null;
  const suite = suiteOf(c.take(2).readUInt16BE());
  const blockType = c.take(1)[0];
  const blockLength = c.take(4).readUInt32BE();
  if (blockType === BlockType.WITHOUT_BLOCK) {
    if (blockLength !== 0) fail('an unframed message has a block length');
  } else if (blockType === BlockType.WITH_BLOCK) {
    if (blockLength < 1 || blockLength > MAX_BLOCK_BYTES) fail(`its block length ${blockLength} is not 1..${MAX_BLOCK_BYTES}`);
  } else fail(`its block type ${blockType} is neither WITHOUT_BLOCK (1) nor WITH_BLOCK (2)`);
  const messageId = Buffer.from(c.take(MESSAGE_ID_BYTES));
  const ctxLength = c.take(2).readUInt16BE();
  if (ctxLength > MAX_CONTEXT_BYTES) fail(`its encryption context is longer than ${MAX_CONTEXT_BYTES} bytes`);
  if (!c.need(ctxLength + 1)) return null;
  const encryptionContext = utf8(c.take(ctxLength), 'encryption context');
  const count = c.take(1)[0];
  if (count < 1 || count > MAX_MASTER_KEYS) fail(`it names ${count} encrypted data keys, not 1..${MAX_MASTER_KEYS}`);
  const dataKey: EncryptedDataKey[] = [];
  for (let i = 0; i < count; i++) {
    const fields: string[] = [];
    for (const what of ['region', 'key id']) {
      if (!c.need(1)) return null;
      const n = c.take(1)[0];
      if (n === 0) fail(`a data key's ${what} is empty`);
      if (!c.need(n)) return null;
      fields.push(utf8(c.take(n), what));
    }
    if (!c.need(2)) return null;
    const n = c.take(2).readUInt16BE();
    if (n === 0) fail('an encrypted data key is empty');
    if (!c.need(n)) return null;
    dataKey.push({ cmkRegion: fields[0], cmkKeyId: fields[1], dataKey: c.take(n).toString('base64') });
  }
  const bodyLength = c.pos;
  if (!c.need(MAC_BYTES)) return null;
  const mac = Buffer.from(c.take(MAC_BYTES));
  const head: MsgHead = { algorithm: suite.algorithm, encryptionContext, dataKeyNum: count, dataKey, blockType, blockLength };
  return { head, suite, messageId, body: Buffer.from(buf.subarray(0, bodyLength)), mac, length: c.pos };
}

function fail(why: string): never {
  throw invalidMessage(`not a message of this SDK: ${why}`);
}

/** The frame's fields before its IV: sequence number, flags, ciphertext length. */
export function framePrefix(seq: number, final: boolean, ciphertextLength: number): Buffer {
  const b = Buffer.alloc(FRAME_PREFIX_BYTES);
  b.writeUInt32BE(seq, 0);
  b[4] = final ? FINAL_FRAME : 0;
  b.writeUInt32BE(ciphertextLength, 5);
  return b;
}

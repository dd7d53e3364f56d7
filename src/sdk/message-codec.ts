import * as crypto from 'node:crypto';
import { BlockType, MAC_BYTES, Suite } from './algorithms';
import { ByteQueue } from './byte-queue';
import { EncryptSDKError, invalidMessage } from './errors';
import { ciphertextLength, openFrame, sealFrame } from './frame-cipher';
import { FINAL_FRAME, FRAME_PREFIX_BYTES, MESSAGE_ID_BYTES, ParsedHeader, framePrefix, parseHeader, u32 } from './message-format';

/**
 * Keys of one message, derived from its data key and message id (HKDF with the suite's hash),
 * so that a cached data key never encrypts two messages with the same key: `enc` for the
 * frames, `mac` for the frames' signatures (signed suites), `header` for the header's MAC.
 */
export interface MessageKeys {
  enc: Buffer;
  mac: Buffer | null;
  header: Buffer;
}

const INFO = 'hsm-kms sdk v1 ';

export function deriveKeys(suite: Suite, dataKey: Buffer, messageId: Buffer): MessageKeys {
  const derive = (purpose: string, n: number): Buffer => {
    const info = Buffer.concat([Buffer.from(INFO + purpose, 'latin1'), u32(suite.algorithm)]);
    return Buffer.from(crypto.hkdfSync(suite.hash, dataKey, messageId, info, n));
  };
  return { enc: derive('enc', suite.keyBytes), mac: suite.signed ? derive('mac', MAC_BYTES) : null, header: derive('hdr', MAC_BYTES) };
}

export function wipeKeys(k: MessageKeys): void {
  k.enc.fill(0);
  k.mac?.fill(0);
  k.header.fill(0);
}

/** The frames' MACs are HMAC-SM3 (the seed's SM3 HMAC signature); the header's uses the suite's hash. */
const FRAME_MAC_HASH = 'sm3';
const hmac = (hash: string, key: Buffer, ...parts: Buffer[]): Buffer => {
  const h = crypto.createHmac(hash, key);
  for (const p of parts) h.update(p);
  return h.digest();
};

export const headerMac = (suite: Suite, keys: MessageKeys, body: Buffer): Buffer => hmac(suite.hash, keys.header, body);

/** GCM's AAD for a frame: message id, sequence number, flags. */
const frameAad = (messageId: Buffer, prefix: Buffer): Buffer => Buffer.concat([messageId, prefix.subarray(0, 5)]);

/** The IV of frame `seq`, written in the frame: counters under the message's own key (GCM, CTR), random for CBC. */
function frameIv(suite: Suite, seq: number): Buffer {
  if (suite.mode === 'cbc') return crypto.randomBytes(16);
  const iv = Buffer.alloc(suite.ivBytes);
  if (suite.mode === 'gcm') iv.writeUInt32BE(seq, 8);
  else if (suite.mode === 'ctr') iv.writeUInt32BE(seq, 4);
  return iv;
}

/** Writes the frames of one message, numbered from 1. */
export class FrameWriter {
  private seq = 0;
  constructor(
    private readonly suite: Suite,
    private readonly keys: MessageKeys,
    private readonly messageId: Buffer,
  ) {}

  frame(plaintext: Uint8Array, final: boolean): Buffer {
    const seq = ++this.seq;
    const iv = frameIv(this.suite, seq);
    const prefix = framePrefix(seq, final, ciphertextLength(this.suite, plaintext.length));
    let sealed;
    try {
      sealed = sealFrame(this.suite, this.keys.enc, iv, frameAad(this.messageId, prefix), plaintext);
    } catch (e) {
      throw new EncryptSDKError('LocalEncryptError', `${this.suite.name} failed: ${(e as Error).message}`);
    }
    const parts = [prefix, iv, sealed.ciphertext, sealed.tag];
    if (this.keys.mac) parts.push(hmac(FRAME_MAC_HASH, this.keys.mac, ...parts));
    return Buffer.concat(parts);
  }
}

/** What opening a header yields: the message's keys and whatever the caller wants to report. */
export interface Opened<T> {
  keys: MessageKeys;
  info: T;
}

/**
 * Reads a message as its bytes arrive and hands out each frame's plaintext once the frame is
 * authenticated (GCM tag, signature). `open` turns a parsed header into the message's keys (it
 * decrypts a data key through the KMS and checks the header's MAC).
 */
export class MessageReader<T> {
  private readonly queue = new ByteQueue();
  private header: ParsedHeader | null = null;
  private opened: Opened<T> | null = null;
  private seq = 0;
  private done = false;

  /**
   * `maxUnframedBytes`: the most plaintext an unframed message's single frame may declare (a
   * stream holds that frame whole until it is authenticated, and its length is not covered by
   * the header's MAC); undefined: no limit, for a caller that holds the whole message anyway.
   */
  constructor(
    private readonly open: (h: ParsedHeader) => Promise<Opened<T>>,
    private readonly maxUnframedBytes?: number,
  ) {}

  get parsedHeader(): ParsedHeader | null {
    return this.header;
  }

  get info(): T | undefined {
    return this.opened?.info;
  }

  /** The plaintext of every frame that `chunk` completes. */
  async push(chunk: Buffer): Promise<Buffer[]> {
    this.queue.push(chunk);
    if (!this.opened) {
      if (!this.header) {
        const h = parseHeader(this.queue.peek(this.queue.length));
        if (!h) return [];
        this.queue.take(h.length);
        this.header = h;
      }
      this.opened = await this.open(this.header);
    }
    const out: Buffer[] = [];
    for (let pt = this.nextFrame(); pt; pt = this.nextFrame()) out.push(pt);
    return out;
  }

  /** The input has ended: it must have ended with the final frame. */
  end(): void {
    if (!this.header) throw invalidMessage(this.queue.length === 0 ? 'the message is empty' : 'the message ends inside its header');
    if (!this.done) throw invalidMessage('the message ends before its final frame');
  }

  wipe(): void {
    if (this.opened) wipeKeys(this.opened.keys);
  }

  private nextFrame(): Buffer | null {
    const h = this.header!;
    const s = h.suite;
    if (this.done) {
      if (this.queue.length > 0) throw invalidMessage('bytes follow the final frame');
      return null;
    }
    if (this.queue.length < FRAME_PREFIX_BYTES) return null;
    const prefix = this.queue.peek(FRAME_PREFIX_BYTES);
    const seq = prefix.readUInt32BE(0);
    const final = prefix[4] === FINAL_FRAME;
    const ctLength = prefix.readUInt32BE(5);
    if (seq !== this.seq + 1) throw invalidMessage(`frame ${this.seq + 1} is missing (found frame ${seq} instead)`);
    if (prefix[4] & ~FINAL_FRAME) throw invalidMessage(`frame ${seq} has unknown flags`);
    if (h.head.blockType === BlockType.WITHOUT_BLOCK) {
      if (!final) throw invalidMessage('an unframed message has more than one frame');
      const max = this.maxUnframedBytes;
      if (max !== undefined && ctLength > ciphertextLength(s, max)) {
        throw invalidMessage(`the message is unframed and declares ${ctLength} bytes of ciphertext; a decrypt stream holds an unframed message whole and takes at most ${max} bytes of plaintext (maxUnframedBytes): decrypt it with decrypt(), or raise maxUnframedBytes`);
      }
    } else {
      const full = ciphertextLength(s, h.head.blockLength);
      if (final ? ctLength > full : ctLength !== full) throw invalidMessage(`frame ${seq} has ${ctLength} bytes of ciphertext, against a block length of ${h.head.blockLength}`);
    }
    if ((s.mode === 'cbc' || s.mode === 'ecb') && (ctLength === 0 || ctLength % 16 !== 0)) throw invalidMessage(`frame ${seq}'s ciphertext is not whole ${s.mode.toUpperCase()} blocks`);
    const macBytes = s.signed ? MAC_BYTES : 0;
    const total = FRAME_PREFIX_BYTES + s.ivBytes + ctLength + s.tagBytes + macBytes;
    if (this.queue.length < total) return null;
    const frame = this.queue.take(total);
    let at = FRAME_PREFIX_BYTES;
    const iv = frame.subarray(at, (at += s.ivBytes));
    const ct = frame.subarray(at, (at += ctLength));
    const tag = frame.subarray(at, (at += s.tagBytes));
    const keys = this.opened!.keys;
    if (keys.mac) {
      const want = hmac(FRAME_MAC_HASH, keys.mac, frame.subarray(0, at));
      if (!crypto.timingSafeEqual(want, frame.subarray(at))) throw new EncryptSDKError('SignCheckFail', `frame ${seq}'s SM3 HMAC signature does not match: the message was changed`);
    }
    const pt = openFrame(s, keys.enc, iv, frameAad(h.messageId, prefix), ct, tag);
    if (h.head.blockType === BlockType.WITH_BLOCK && (final ? pt.length > h.head.blockLength : pt.length !== h.head.blockLength)) throw invalidMessage(`frame ${seq} holds ${pt.length} bytes, against a block length of ${h.head.blockLength}`);
    this.seq = seq;
    this.done = final;
    return pt;
  }
}

export const newMessageId = (): Buffer => crypto.randomBytes(MESSAGE_ID_BYTES);

import { Transform, TransformCallback } from 'node:stream';
import { Algorithm, suiteOf } from './algorithms';
import { ByteQueue } from './byte-queue';
import { EncryptSDKError, invalidParameter } from './errors';
import { KeyManager, MasterKey } from './key-manager';
import { MessageReader, wipeKeys } from './message-codec';
import { MAX_BLOCK_BYTES, MsgHead } from './message-format';
import { DecryptOptions } from './messages';
import { MessageStart, checkBlockSize, checkContext, checkKeyManager, opener, startMessage } from './message-session';

/** Frame size of a stream whose blockSize is 0: a stream cannot know its length up front. */
export const DEFAULT_STREAM_BLOCK = 64 * 1024;

/** The most plaintext a decrypt stream takes in an unframed message unless told otherwise: the largest frame. */
export const DEFAULT_MAX_UNFRAMED_BYTES = MAX_BLOCK_BYTES;
/** An unframed message's ciphertext length is a 32-bit field. */
const MAX_UNFRAMED_LIMIT = 2 ** 32 - 17;

const asError = (e: unknown): Error => (e instanceof Error ? e : new EncryptSDKError('UnknownError', String(e)));

/**
 * Encrypts what is written to it into one message, in constant memory: frames of `blockSize`
 * bytes (64 KiB when 0). Emits `header` (the MsgHead) once the data key is there.
 */
export class EncryptStream extends Transform {
  header?: MsgHead;
  masterKey?: MasterKey;
  private started?: Promise<MessageStart>;
  private readonly pending = new ByteQueue();
  private readonly blockLength: number;
  private readonly km: KeyManager;
  private readonly context: string;

  constructor(keyManager: KeyManager, private readonly algorithm: Algorithm, encryptionContext = '', blockSize = 0) {
    super();
    this.km = checkKeyManager(keyManager);
    suiteOf(algorithm);
    this.context = checkContext(encryptionContext);
    this.blockLength = checkBlockSize(blockSize) || DEFAULT_STREAM_BLOCK;
  }

  private start(): Promise<MessageStart> {
    this.started ??= startMessage(this.km, this.algorithm, this.context, this.blockLength, 0).then((m) => {
      this.header = m.head;
      this.masterKey = m.masterKey;
      this.push(m.header);
      this.emit('header', m.head);
      return m;
    });
    return this.started;
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.pending.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk));
    this.start().then((m) => {
      // A frame is written once more bytes follow it: only the last one may be short.
      while (this.pending.length > this.blockLength) {
        this.push(m.writer.frame(this.pending.take(this.blockLength), false));
        m.addBytes(this.blockLength);
      }
      cb();
    }, (e) => cb(asError(e)));
  }

  override _flush(cb: TransformCallback): void {
    this.start().then((m) => {
      try {
        const rest = this.pending.take(this.pending.length);
        this.push(m.writer.frame(rest, true));
        m.addBytes(rest.length);
        cb();
      } catch (e) {
        cb(asError(e));
      } finally {
        wipeKeys(m.keys);
      }
    }, (e) => cb(asError(e)));
  }

  override _destroy(err: Error | null, cb: (error: Error | null) => void): void {
    this.started?.then((m) => wipeKeys(m.keys), () => undefined);
    cb(err);
  }
}

/**
 * Decrypts one message written to it; each frame's plaintext comes out once the frame is
 * authenticated. Emits `header` (the MsgHead) once the header is checked.
 */
export class DecryptStream extends Transform {
  header?: MsgHead;
  masterKey?: MasterKey;
  private readonly reader: MessageReader<{ masterKey: MasterKey }>;

  constructor(keyManager: KeyManager, options: DecryptOptions = {}) {
    super();
    const km = checkKeyManager(keyManager);
    const expected = options.encryptionContext === undefined ? undefined : checkContext(options.encryptionContext);
    const max = options.maxUnframedBytes ?? DEFAULT_MAX_UNFRAMED_BYTES;
    if (!Number.isSafeInteger(max) || max < 1 || max > MAX_UNFRAMED_LIMIT) throw invalidParameter(`maxUnframedBytes must be 1..${MAX_UNFRAMED_LIMIT}`);
    this.reader = new MessageReader(opener(km, expected), max);
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.reader.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk)).then((parts) => {
      if (!this.header && this.reader.info) {
        this.header = this.reader.parsedHeader!.head;
        this.masterKey = this.reader.info.masterKey;
        this.emit('header', this.header);
      }
      for (const p of parts) this.push(p);
      cb();
    }, (e) => cb(asError(e)));
  }

  override _flush(cb: TransformCallback): void {
    try {
      this.reader.end();
      cb();
    } catch (e) {
      cb(asError(e));
    } finally {
      this.reader.wipe();
    }
  }

  override _destroy(err: Error | null, cb: (error: Error | null) => void): void {
    this.reader.wipe();
    cb(err);
  }
}

export const createEncryptStream = (keyManager: KeyManager, algorithm: Algorithm, encryptionContext = '', blockSize = 0): EncryptStream => new EncryptStream(keyManager, algorithm, encryptionContext, blockSize);

export const createDecryptStream = (keyManager: KeyManager, options: DecryptOptions = {}): DecryptStream => new DecryptStream(keyManager, options);

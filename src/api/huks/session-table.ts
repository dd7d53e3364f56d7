import { Clock } from '../../common/clock';
import { InvalidParameterError, StreamBufferLimitError, StreamLimitError, StreamNotFoundError } from '../../common/domain-errors';
import { Log } from '../../common/logger';
import type { PairStreamSpec } from '../../crypto/asymmetric.service';
import type { StreamSpec } from '../../hsm/key-store';
import { SignatureUse, replayed } from '../../http/hmac-request-verifier';
import { newHandle } from './handles';
import { HuksConfig } from './huks-config';

/** One step of a session, as it travels to the worker that owns it. */
export interface SessionStep {
  uin: string;
  handle: number;
  step: 'update' | 'finish' | 'abort';
  data: Buffer;
  /** GCM: the tag of a decryption; the nonce and additional data, when the call repeats them. */
  tag?: Buffer;
  nonce?: Buffer;
  aad?: Buffer;
  /** The step's request signature, whose single use the session keeps. */
  signature: SignatureUse;
}

/** Counts an account's open sessions over every worker of the instance. */
export interface SessionSlots {
  reserve(uin: string, max: number): Promise<boolean>;
  free(uin: string): void;
}

/** A session's work: a multi-part operation of the token (KeyStream), or a key pair's (PairStream), whose finish is asynchronous. */
export interface SessionStream {
  update(data: Buffer): Buffer;
  finish(data: Buffer, tag?: Buffer): Buffer | Promise<Buffer>;
  abort(): void;
}

type SessionSpec = StreamSpec | PairStreamSpec;
const isGcm = (spec: SessionSpec): spec is Extract<StreamSpec, { cipher: 'aes-gcm' }> => 'cipher' in spec && spec.cipher === 'aes-gcm';

interface Session {
  uin: string;
  stream: SessionStream;
  spec: SessionSpec;
  /** Finish has begun (a key pair's runs in the token asynchronously): later steps find no session. */
  finishing: boolean;
  lastUsed: number;
  /** GCM decryption: ciphertext the token holds until finish. */
  buffered: number;
  tag?: Buffer;
  signatures: StepSignatures;
}

/**
 * The single use of a session's step signatures, in bounded memory: a session's steps come one
 * after another, so their signing times may not go back, and only the signatures of the latest
 * signing second are kept (one of an earlier second is refused by its time alone). A client's
 * clock that steps back within a session is refused until it is past the latest second again.
 */
export class StepSignatures {
  /** The latest signing time seen, as the verifier's `expiresAt` (which grows with it). */
  private latest = 0;
  private readonly keys = new Set<string>();

  get size(): number {
    return this.keys.size;
  }

  claim(signature: SignatureUse): void {
    if (signature.expiresAt < this.latest) throw replayed('a session\'s steps are signed in order: this one is signed earlier than a step before it');
    if (signature.expiresAt > this.latest) {
      this.latest = signature.expiresAt;
      this.keys.clear();
    }
    if (this.keys.has(signature.key)) throw replayed('each step of a session is signed afresh');
    this.keys.add(signature.key);
  }
}

const SWEEP_MS = 1000;

/**
 * The sessions this worker owns. Each holds a token session of its own; finish, abort, an
 * error in a step, and idle expiry (KMS_HUKS_SESSION_TTL_S on the service's clock) close it
 * and free the account's slot at once.
 */
export class SessionTable {
  private readonly sessions = new Map<number, Session>();
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly cfg: HuksConfig, private readonly clock: Clock, private readonly slots: SessionSlots) {
    this.timer = setInterval(() => this.sweep(), SWEEP_MS);
    this.timer.unref();
  }

  async open(uin: string, spec: SessionSpec, start: () => Promise<SessionStream>): Promise<number> {
    if (!(await this.slots.reserve(uin, this.cfg.maxSessions))) throw new StreamLimitError(`the account has ${this.cfg.maxSessions} open sessions, the most it may (KMS_HUKS_MAX_SESSIONS); finish or abort one`);
    let stream: SessionStream;
    try {
      stream = await start();
    } catch (e) {
      this.slots.free(uin);
      throw e;
    }
    let handle = newHandle();
    while (this.sessions.has(handle)) handle = newHandle();
    this.sessions.set(handle, { uin, stream, spec, finishing: false, lastUsed: this.clock.nowMs(), buffered: 0, signatures: new StepSignatures() });
    return handle;
  }

  /** Runs one step on a session of this worker; the session ends with finish, abort or any error. */
  async run(s: SessionStep): Promise<Buffer> {
    const session = this.live(s.uin, s.handle);
    // A step's signature serves once. The session itself keeps its steps' signatures (a replay
    // of one can only name this session, and the owner answers it), so a step costs no round
    // trip to the register the faces share. A replay is refused before it touches the
    // session, which goes on.
    session.signatures.claim(s.signature);
    try {
      session.lastUsed = this.clock.nowMs();
      if (s.step === 'abort') {
        this.end(s.handle, session);
        return Buffer.alloc(0);
      }
      this.checkRepeated(session.spec, s);
      if (s.tag) session.tag = s.tag;
      const gcmDecrypt = isGcm(session.spec) && session.spec.op === 'decrypt';
      if (gcmDecrypt) {
        session.buffered += s.data.length;
        if (session.buffered > this.cfg.gcmDecryptMaxBytes) {
          throw new StreamBufferLimitError(`a GCM decryption is held whole until finish; this one passed ${this.cfg.gcmDecryptMaxBytes} bytes (KMS_HUKS_GCM_DECRYPT_MAX_BYTES); the session has ended`);
        }
      }
      if (s.step === 'update') return session.stream.update(s.data);
      if (gcmDecrypt && !session.tag) throw new InvalidParameterError('aeTag', 'a GCM decryption needs the tag (HUKS_TAG_AE_TAG) by finish', 'value');
      session.finishing = true;
      const out = await session.stream.finish(s.data, gcmDecrypt ? session.tag : undefined);
      if (this.sessions.delete(s.handle)) this.slots.free(session.uin);
      return out;
    } catch (e) {
      this.end(s.handle, session);
      throw e;
    }
  }

  /** Every session ends (the worker stops). */
  close(): void {
    clearInterval(this.timer);
    for (const [h, s] of this.sessions) this.end(h, s);
  }

  private live(uin: string, handle: number): Session {
    const session = this.sessions.get(handle);
    // Another account's handle is answered as an unknown one: nothing tells them apart.
    if (!session || session.uin !== uin || session.finishing) throw new StreamNotFoundError('no open session has this handle (never opened, finished, aborted or expired)');
    if (this.expired(session)) {
      this.end(handle, session);
      throw new StreamNotFoundError(`the session expired after ${this.cfg.ttlSeconds} s idle (KMS_HUKS_SESSION_TTL_S)`);
    }
    return session;
  }

  /** GCM: a nonce or additional data given again must be init's. */
  private checkRepeated(spec: SessionSpec, s: SessionStep): void {
    if (!isGcm(spec)) return;
    if (s.nonce && !s.nonce.equals(spec.iv)) throw new InvalidParameterError('nonce', 'HUKS_TAG_NONCE differs from the one the session was started with', 'value');
    if (s.aad && !s.aad.equals(spec.aad)) throw new InvalidParameterError('aad', 'HUKS_TAG_ASSOCIATED_DATA differs from the one the session was started with', 'value');
  }

  private expired(s: Session): boolean {
    return this.clock.nowMs() - s.lastUsed > this.cfg.ttlSeconds * 1000;
  }

  private end(handle: number, s: Session): void {
    if (!this.sessions.delete(handle)) return;
    try {
      s.stream.abort();
    } catch (e) {
      Log.warn('closing a session\'s token session failed', { error: (e as Error).message });
    }
    this.slots.free(s.uin);
  }

  private sweep(): void {
    for (const [h, s] of this.sessions) if (this.expired(s)) this.end(h, s);
  }
}

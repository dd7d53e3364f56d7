import * as pkcs11 from 'pkcs11js';
import { Log } from '../common/logger';
import { GmMechanisms } from './gm-mechanisms';
import { HandleCache } from './handle-cache';
import { HsmProfile } from './hsm-profile';
import { HsmError, HsmHandleInvalidError, HsmLoginError, HsmObjectNotFoundError, TokenUnavailableError, ckrName, ckrOf, isRecoverable, translate } from './hsm-errors';
import { SessionPool } from './session-pool';
import { tokenLabel } from './softhsm-bootstrap';

export type Pkcs11 = pkcs11.PKCS11;
export type Handle = Buffer;
/** One Cryptoki call sequence on a session; `async` says which pkcs11js variants to use. */
/** A CKA_ID no object has (the service's ids are UUIDs and names). */
const NO_OBJECT_ID = Buffer.from('kms-no-such-object');

export type TokenOp<T> = (m: Pkcs11, session: Handle, async: boolean) => T | Promise<T>;

/** A session kept out of the pool for one multi-part operation, with the key object it runs on. */
export interface HeldSession {
  readonly m: Pkcs11;
  readonly session: Handle;
  readonly key: Handle;
}

const START_ATTEMPTS = 5;
const START_RETRY_MS = 200;

/** What the metrics show of a token's session pool and handle cache. */
export interface TokenStats {
  sessionsMax: number;
  sessionsInUse: number;
  sessionsWaiting: number;
  handleHits: number;
  handleMisses: number;
}

/**
 * One PKCS#11 token, as Cosmian's HSM crate does it: a long-lived login session, a fresh
 * (pooled) session per operation, an LRU of object handles keyed by CKA_ID, and the
 * mechanism table read once at start. When the device goes away (see RECOVERABLE) every
 * call fails fast with TokenUnavailableError while a timer reloads the module, at most once
 * per `reloadIntervalMs`. A refused PIN stops the reloads: retrying could lock the token.
 */
export class Token {
  private m: Pkcs11 | null = null;
  private loginSession: Handle | null = null;
  private pool: SessionPool | null = null;
  private readonly handles = new HandleCache();
  private mechs = new Set<number>();
  private slot: Handle | null = null;
  private up = false;
  private downReason = 'not started';
  private reloadTimer: NodeJS.Timeout | null = null;
  private lastAttempt = 0;
  private fatal: Error | null = null;
  private stopped = false;
  private generation = 0;

  constructor(private readonly profile: HsmProfile, private readonly pin: string) {}

  get available(): boolean {
    return this.up;
  }
  get async(): boolean {
    return this.profile.callMode === 'async';
  }
  /** What the metrics show of the pool and the handle cache; read at scrape time, never on the request path. */
  stats(): TokenStats {
    return { sessionsMax: this.profile.maxSessions, sessionsInUse: this.pool?.inUse ?? 0, sessionsWaiting: this.pool?.waiting ?? 0, handleHits: this.handles.hits, handleMisses: this.handles.misses };
  }
  /** The PKCS#11 library's path, for the one call pkcs11js cannot make (nested-template.ts). */
  get modulePath(): string {
    return this.profile.module;
  }
  supports(mechanism: number): boolean {
    return this.mechs.has(mechanism);
  }
  /**
   * Changes whenever the session objects of this process are gone: at each (re)connect, and
   * after the security officer logged in (C_Logout destroys private session objects).
   */
  get epoch(): number {
    return this.generation;
  }

  /**
   * Runs `op` on the long-lived login session, for session objects that must outlive the call
   * (unwrapped keys): those made on a pooled session die when the pool discards it. Sync
   * calls only, so that no other call uses the session meanwhile.
   */
  onKeeperSession<T>(op: (m: Pkcs11, session: Handle) => T): T {
    this.ready();
    try {
      return op(this.m!, this.loginSession!);
    } catch (e) {
      throw this.failure(e);
    }
  }

  /**
   * Runs `op` (sync calls only) logged in as the security officer on the login session, then
   * logs the user in again. Meanwhile the whole process is logged out, and afterwards its
   * private session objects are gone (the epoch changes): for set-up and the CLI only.
   */
  asSecurityOfficer<T>(soPin: string, op: (m: Pkcs11, session: Handle) => T): T {
    this.ready();
    const m = this.m!;
    const s = this.loginSession!;
    m.C_Logout(s);
    try {
      m.C_Login(s, pkcs11.CKU_SO, soPin);
      try {
        return op(m, s);
      } finally {
        m.C_Logout(s);
      }
    } catch (e) {
      throw translate(e);
    } finally {
      m.C_Login(s, pkcs11.CKU_USER, this.pin);
      this.handles.clear();
      this.generation++;
    }
  }

  /** The vendor SM2/SM4 mechanisms the profile declares (not yet checked against the token's list). */
  get gm(): GmMechanisms {
    return this.profile.gm;
  }

  /**
   * Connects and logs in; throws if the token cannot be used at all. SoftHSM, started by
   * several workers at once while another process writes the token, now and then lists no
   * token or answers CKR_GENERAL_ERROR (measured: 37 in 2,112 rounds of two processes): such
   * failures are tried again a few times. A refused PIN is never retried.
   */
  async start(): Promise<void> {
    for (const [k, v] of Object.entries(this.profile.env)) process.env[k] = v;
    for (let attempt = 1; ; attempt++) {
      this.lastAttempt = Date.now();
      try {
        this.connect();
        return;
      } catch (e) {
        if (e instanceof HsmLoginError || attempt >= START_ATTEMPTS) throw e;
        Log.warn('hsm token not usable yet; trying again', { profile: this.profile.name, attempt, error: (e as Error).message });
        await new Promise((r) => setTimeout(r, START_RETRY_MS));
      }
    }
  }

  stop(): void {
    this.stopped = true;
    if (this.reloadTimer) clearTimeout(this.reloadTimer);
    this.reloadTimer = null;
    this.disconnect();
  }

  /** Runs `op` on a pooled session. */
  async exec<T>(op: TokenOp<T>): Promise<T> {
    const pool = this.ready();
    // The module that opened the pool's sessions: after a reload they belong to no module.
    const m = this.m!;
    let session: Handle;
    try {
      session = pool.tryAcquire() ?? (await pool.acquire());
    } catch (e) {
      throw this.failure(e);
    }
    return this.runOn(m, pool, session, op);
  }

  /** Runs `op` with the handle of the object whose CKA_ID is `id`, looking it up again once if the cached handle went stale. */
  async withObject<T>(id: Buffer, op: (m: Pkcs11, session: Handle, handle: Handle, async: boolean) => T | Promise<T>): Promise<T> {
    const key = id.toString('hex');
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.exec((m, s, async) => {
          let h = this.handles.get(key);
          if (h === undefined) {
            h = this.find(m, s, id);
            this.handles.set(key, h);
          }
          return op(m, s, h, async);
        });
      } catch (e) {
        if (e instanceof HsmHandleInvalidError && attempt === 0) {
          this.handles.delete(key);
          continue;
        }
        throw e;
      }
    }
  }

  /**
   * Opens a session of its own (outside the pool, so that long multi-part operations do not
   * starve single calls) on the object whose CKA_ID is `target` (or that `target` finds), and
   * runs `init` on it. The caller releases it.
   */
  async hold(target: Buffer | ((m: Pkcs11, session: Handle) => Handle), init: (m: Pkcs11, session: Handle, key: Handle) => void): Promise<HeldSession> {
    this.ready();
    const m = this.m!;
    let session: Handle;
    try {
      session = m.C_OpenSession(this.slot!, pkcs11.CKF_SERIAL_SESSION | pkcs11.CKF_RW_SESSION);
    } catch (e) {
      throw this.failure(e);
    }
    try {
      const key = Buffer.isBuffer(target) ? this.find(m, session, target) : target(m, session);
      init(m, session, key);
      return { m, session, key };
    } catch (e) {
      this.release({ m, session, key: Buffer.alloc(0) });
      throw this.failure(e);
    }
  }

  /** Runs one step of a held session's operation; a device failure starts recovery as for pooled calls. */
  step<T>(held: HeldSession, op: (m: Pkcs11, session: Handle) => T): T {
    // After a reload the held session belongs to a module that is gone.
    if (held.m !== this.m) throw new TokenUnavailableError('the token was reloaded during the operation');
    try {
      return op(held.m, held.session);
    } catch (e) {
      throw this.failure(e);
    }
  }

  /** Closes a held session (which ends any operation still active on it). */
  release(held: HeldSession): void {
    if (held.m !== this.m) return;
    try {
      held.m.C_CloseSession(held.session);
    } catch {
      /* already closed with its module */
    }
  }

  /** Whether an object with this CKA_ID exists (not cached: used on slow paths only). */
  async exists(id: Buffer): Promise<boolean> {
    return this.exec((m, s) => this.findAll(m, s, id).length > 0);
  }

  /**
   * Call in a session before creating or destroying a token object. SoftHSM's file store
   * re-reads its list of objects only when the token's generation counter moved since this
   * process last listed, and a write adopts the counter as it finds it: objects another
   * process (a worker, the CLI) made since this one last listed would stay unseen by it. A
   * search that matches nothing lists first.
   */
  seeOtherWriters(m: Pkcs11, s: Handle): void {
    this.findAll(m, s, NO_OBJECT_ID);
  }

  forget(id: Buffer): void {
    this.handles.delete(id.toString('hex'));
  }

  private find(m: Pkcs11, s: Handle, id: Buffer): Handle {
    const found = this.findAll(m, s, id);
    if (found.length === 0) throw new HsmObjectNotFoundError(`no token object with CKA_ID ${id.toString('hex')}`);
    return found[0];
  }

  private findAll(m: Pkcs11, s: Handle, id: Buffer): Handle[] {
    m.C_FindObjectsInit(s, [{ type: pkcs11.CKA_ID, value: id }]);
    try {
      return m.C_FindObjects(s, 4);
    } finally {
      m.C_FindObjectsFinal(s);
    }
  }

  private ready(): SessionPool {
    if (this.fatal) throw new TokenUnavailableError(`login refused: ${this.fatal.message}`);
    if (!this.up || !this.pool) throw new TokenUnavailableError(this.downReason);
    return this.pool;
  }

  private async runOn<T>(m: Pkcs11, pool: SessionPool, session: Handle, op: TokenOp<T>): Promise<T> {
    try {
      const r = await op(m, session, this.async);
      pool.release(session);
      return r;
    } catch (e) {
      if (!isRecoverable(e)) {
        // CKR_ARGUMENTS_BAD (and errors raised between two calls) can leave an operation
        // active: such a session is closed. After any other failure it is clean again.
        const code = ckrOf(e) ?? (e instanceof HsmError ? e.ckr : undefined);
        if (code === undefined || code === pkcs11.CKR_ARGUMENTS_BAD || code === pkcs11.CKR_OPERATION_ACTIVE) pool.discard(session);
        else pool.release(session);
      }
      throw this.failure(e);
    }
  }

  /** The error to raise for a failed call; a device-level failure also starts recovery. */
  private failure(e: unknown): Error {
    if (!isRecoverable(e)) return translate(e);
    this.markDown(ckrOf(e) !== undefined ? ckrName(ckrOf(e)!) : (e as Error).message);
    return new TokenUnavailableError(this.downReason);
  }

  private markDown(reason: string): void {
    if (!this.up) return;
    this.up = false;
    this.downReason = reason;
    Log.warn('hsm token unavailable; reloading the module in the background', { reason, profile: this.profile.name });
    this.pool?.reset(() => new TokenUnavailableError(reason));
    this.handles.clear();
    this.scheduleReload();
  }

  private scheduleReload(): void {
    if (this.reloadTimer || this.stopped || this.fatal) return;
    const wait = Math.max(0, this.lastAttempt + this.profile.reloadIntervalMs - Date.now());
    this.reloadTimer = setTimeout(() => {
      this.reloadTimer = null;
      this.lastAttempt = Date.now();
      try {
        this.connect();
        Log.info('hsm token available again', { profile: this.profile.name });
      } catch (e) {
        if (e instanceof HsmLoginError) {
          this.fatal = e;
          Log.error('hsm login refused; not retrying', { profile: this.profile.name, error: e.message });
          return;
        }
        this.downReason = (e as Error).message;
        this.scheduleReload();
      }
    }, wait);
    this.reloadTimer.unref();
  }

  private disconnect(): void {
    const m = this.m;
    this.m = null;
    this.up = false;
    this.pool?.reset(() => new TokenUnavailableError('the module was unloaded'));
    this.pool = null;
    this.loginSession = null;
    this.handles.clear();
    if (!m) return;
    try {
      m.C_Finalize();
    } catch {
      /* finalize of a broken module */
    }
    try {
      m.close();
    } catch {
      /* already unloaded */
    }
  }

  private connect(): void {
    this.disconnect();
    const m = new pkcs11.PKCS11();
    try {
      m.load(this.profile.module);
      // Without CKF_OS_LOCKING_OK, pkcs11js passes flags 0: modules then assume one thread
      // (SoftHSM drops its locks, which crashes the async mode) or refuse (p11-kit client).
      m.C_Initialize({ flags: pkcs11.CKF_OS_LOCKING_OK });
    } catch (e) {
      try {
        m.close();
      } catch {
        /* not loaded */
      }
      throw new HsmError(`cannot load ${this.profile.module}: ${(e as Error).message}`);
    }
    try {
      const slot = this.selectSlot(m);
      const flags = pkcs11.CKF_SERIAL_SESSION | pkcs11.CKF_RW_SESSION;
      const login = m.C_OpenSession(slot, flags);
      try {
        m.C_Login(login, pkcs11.CKU_USER, this.pin);
      } catch (e) {
        if (ckrOf(e) !== pkcs11.CKR_USER_ALREADY_LOGGED_IN) throw e;
      }
      this.mechs = new Set(m.C_GetMechanismList(slot));
      this.m = m;
      this.loginSession = login;
      this.slot = slot;
      this.pool = new SessionPool(this.profile.maxSessions, () => m.C_OpenSession(slot, flags), (s) => m.C_CloseSession(s));
      this.generation++;
      this.up = true;
    } catch (e) {
      try {
        m.C_Finalize();
        m.close();
      } catch {
        /* best effort */
      }
      throw translate(e);
    }
  }

  private selectSlot(m: Pkcs11): Handle {
    const sel = this.profile.token;
    const slots = m.C_GetSlotList(true);
    const match = slots.find((s) => {
      if (sel.slotId !== undefined) return Number(s.readBigUInt64LE(0)) === sel.slotId;
      const info = m.C_GetTokenInfo(s);
      if (sel.serial !== undefined) return info.serialNumber.trim() === sel.serial;
      return tokenLabel(info) === sel.label;
    });
    if (!match) throw new HsmError(`no token matching ${JSON.stringify(sel)} in ${this.profile.module}`);
    return match;
  }
}

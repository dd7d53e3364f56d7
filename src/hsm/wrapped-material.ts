import * as pkcs11 from 'pkcs11js';
import { Log } from '../common/logger';
import { HsmError } from './hsm-errors';
import { MaterialRef } from './key-store';
import { asTokenObject, copyToTokenIfAble } from './token-copy';
import { SessionKeyCache, SessionKeyCacheStats } from './session-key-cache';
import { Handle, Pkcs11, Token } from './token';
import {
  WRAP_MECHANISM,
  decodeBlob,
  encodeBlob,
  findAll,
  honoursWrapWithTrusted,
  kekCopyTemplate,
  kekId,
  kekTemplate,
  kindOf,
  listKeks,
  listPendingKeks,
  parseKekId,
  pendingKekId,
  unwrapKey,
  unwrapTemplate,
  unwrapTemplateEnforced,
  wrapKey,
} from './wrapping';
import { generateKeyNested } from './nested-template';

/** `token`: CMK material is made as token objects; `wrapped`: as blobs wrapped by a region's KEK, kept in the database. */
export type KeyStorageMode = 'token' | 'wrapped';
export const KEY_STORAGE_MODES: readonly KeyStorageMode[] = ['token', 'wrapped'];

/** How long a process trusts its list of KEKs: a rotation made elsewhere is seen within this time. */
export const KEK_LIST_TTL_MS = 1000;

export interface KekInfo {
  id: string;
  region: string;
  generation: number;
  /** The newest generation of its region, which wraps new material; older ones await `retire`. */
  active: boolean;
}

const idOf = (ref: MaterialRef): Buffer => Buffer.from(ref.id, 'utf8');

/**
 * Wrapped material, in either storage mode: blobs are unwrapped with their KEK into
 * sensitive, non-extractable session objects on the login session, kept in a bounded LRU
 * (destroyed on eviction); new material is wrapped with its region's newest KEK. KEKs are
 * token objects named `kms-kek:<region>:<generation>`; the token is the only record of them.
 */
export class WrappedMaterial {
  private readonly cache: SessionKeyCache;
  private epoch = -1;
  private keks = new Map<string, Handle>();
  private listedAt = 0;
  private enforced: boolean | null = null;
  /** Whether each KEK holds what it unwraps to its CKA_UNWRAP_TEMPLATE (KEKs never change). */
  private readonly templateEnforced = new Map<string, boolean>();

  constructor(
    private readonly token: Token,
    cacheEntries: number,
    private readonly soPin: () => string | undefined,
  ) {
    this.cache = new SessionKeyCache(cacheEntries, (h) => token.onKeeperSession((m, s) => m.C_DestroyObject(s, h)));
  }

  /** Runs `op` with the unwrapped key of `ref` (which has `wrapped`). */
  use<T>(ref: MaterialRef, op: (m: Pkcs11, session: Handle, key: Handle, async: boolean) => T | Promise<T>): Promise<T> {
    return this.token.exec(async (m, s, async) => {
      const key = this.pin(m, s, ref);
      try {
        return await op(m, s, key, async);
      } finally {
        this.cache.unpin(ref.id, key);
      }
    });
  }

  /** The unwrapped key of `ref`, kept from eviction until `unpin`. */
  pin(m: Pkcs11, s: Handle, ref: MaterialRef): Handle {
    this.sync();
    const hit = this.cache.pin(ref.id);
    if (hit) return hit;
    const blob = decodeBlob(ref.wrapped!);
    const kek = this.kek(m, s, blob.kek);
    const started = process.hrtime.bigint();
    const key = this.token.onKeeperSession((km, ks) => unwrapKey(km, ks, kek, blob.payload, unwrapTemplate(blob, 'use', idOf(ref), `cmk material ${ref.id}`)));
    this.cache.add(ref.id, key, ref.key, Number(process.hrtime.bigint() - started));
    return key;
  }

  unpin(ref: MaterialRef, key: Handle): void {
    this.cache.unpin(ref.id, key);
  }

  /** The session object `key` wrapped by the newest KEK of `region` (the caller destroys the object). */
  seal(m: Pkcs11, s: Handle, key: Handle, region: string | undefined): Buffer {
    if (!region) throw new HsmError('wrapped material needs the region whose key-encryption key wraps it');
    const kek = this.activeKek(m, s, region);
    return encodeBlob({ kek: kek.id, ...kindOf(m, s, key), payload: wrapKey(m, s, kek.handle, key) });
  }

  /** Destroys the session object kept for material `id`, if any. */
  evict(id: string): void {
    this.sync();
    this.cache.evict(id);
  }

  /** Destroys the session objects kept for the CMK `keyId`. */
  forgetKey(keyId: string): void {
    this.sync();
    this.cache.evictKey(keyId);
  }

  stats(): SessionKeyCacheStats {
    return this.cache.stats();
  }

  /** The token's KEKs. */
  async list(): Promise<KekInfo[]> {
    return this.token.exec((m, s) => {
      this.sync();
      this.token.seeOtherWriters(m, s);
      this.refresh(m, s, true);
      return this.infos();
    });
  }

  /** Whether the token refuses to wrap CKA_WRAP_WITH_TRUSTED material under an untrusted key (measured once per process). */
  async wrapWithTrustedEnforced(): Promise<boolean> {
    if (this.enforced === null) this.enforced = await this.token.exec((m, s) => honoursWrapWithTrusted(m, s));
    return this.enforced;
  }

  /** Per KEK: whether the token refuses to unwrap under it into a readable key (measured once per KEK and process). */
  async unwrapTemplates(): Promise<Map<string, boolean>> {
    const keks = await this.list();
    await this.token.exec((m, s) => {
      for (const k of keks.filter((x) => !this.templateEnforced.has(x.id))) this.templateEnforced.set(k.id, unwrapTemplateEnforced(m, s, this.kek(m, s, k.id)));
    });
    return new Map(keks.map((k) => [k.id, this.templateEnforced.get(k.id)!]));
  }

  /**
   * Set-up: public KEKs an earlier release's crash left are destroyed; a token that lets
   * untrusted keys wrap the material is refused; each region without a KEK gets its first
   * (the SO PIN is needed then); a KEK without an unwrap template is named in the log.
   */
  async ensureKeks(regions: string[]): Promise<string[]> {
    await this.destroyPendingKeks();
    if (!(await this.wrapWithTrustedEnforced())) throw new HsmError('this token does not honour CKA_WRAP_WITH_TRUSTED, so any wrapping key in it could export CMK material: wrapped key storage refuses to run on it (use KMS_KEY_STORAGE=token)');
    const have = new Set((await this.list()).map((k) => k.region));
    const made: string[] = [];
    for (const region of regions.filter((r) => !have.has(r))) made.push(await this.createKek(region, 1));
    for (const [id, enforced] of await this.unwrapTemplates()) {
      if (!enforced) Log.warn('this key-encryption key has no unwrap template: whoever holds the user PIN and the database can unwrap CMK material into readable keys; replace it with kms kek rotate', { kek: id });
    }
    return made;
  }

  /** A new KEK generation for `region`, unless a rotation is under way (then it resumes). */
  async rotate(region: string): Promise<KekInfo[]> {
    await this.destroyPendingKeks();
    const mine = (await this.list()).filter((k) => k.region === region);
    if (mine.length === 0) throw new HsmError(`region ${region} has no key-encryption key`);
    if (mine.length === 1) await this.createKek(region, mine[0].generation + 1);
    return (await this.list()).filter((k) => k.region === region);
  }

  /** Destroys the KEKs of `region` but the newest; call once nothing is wrapped by them. */
  async retire(region: string): Promise<string[]> {
    return this.token.exec((m, s) => {
      this.sync();
      this.token.seeOtherWriters(m, s);
      this.refresh(m, s, true);
      const old = this.infos().filter((k) => k.region === region && !k.active);
      for (const k of old) m.C_DestroyObject(s, this.keks.get(k.id)!);
      this.refresh(m, s, true);
      return old.map((k) => k.id);
    });
  }

  /** The blob wrapped again by the newest KEK of `region`; null when that KEK already wraps it, or another region's does. */
  async rewrap(wrapped: Buffer, region: string): Promise<Buffer | null> {
    const blob = decodeBlob(wrapped);
    if (parseKekId(blob.kek)?.region !== region) return null;
    return this.token.exec((m, s) => {
      const active = this.activeKek(m, s, region);
      if (active.id === blob.kek) return null;
      const key = unwrapKey(m, s, this.kek(m, s, blob.kek), blob.payload, unwrapTemplate(blob, 'rewrap', Buffer.from('kms-rewrap'), 'kms rewrap'));
      try {
        return encodeBlob({ ...blob, kek: active.id, payload: wrapKey(m, s, active.handle, key) });
      } finally {
        m.C_DestroyObject(s, key);
      }
    });
  }

  /**
   * Makes `ref`'s wrapped material a token object named `ref.id` (sensitive; extractable only
   * by a trusted key, so that it can move back). An object of that name already there (a move
   * cut short) is kept.
   */
  toToken(ref: MaterialRef, label: string): Promise<void> {
    const blob = decodeBlob(ref.wrapped!);
    return this.token.exec((m, s) => {
      this.token.seeOtherWriters(m, s);
      m.C_FindObjectsInit(s, [{ type: pkcs11.CKA_ID, value: idOf(ref) }]);
      const found = m.C_FindObjects(s, 1);
      m.C_FindObjectsFinal(s);
      if (found.length > 0) return;
      const kek = this.kek(m, s, blob.kek);
      const template = unwrapTemplate(blob, 'rewrap', idOf(ref), label);
      const key = unwrapKey(m, s, kek, blob.payload, template);
      try {
        if (copyToTokenIfAble(m, s, key) === null) unwrapKey(m, s, kek, blob.payload, asTokenObject(template));
      } finally {
        m.C_DestroyObject(s, key);
      }
    });
  }

  /**
   * The token object `ref` wrapped by the newest KEK of `region`, or null when the token will
   * not let it out (material made in token mode is never extractable, and stays there).
   */
  fromToken(ref: MaterialRef, region: string): Promise<Buffer | null> {
    return this.token.withObject(idOf(ref), (m, s, key) => {
      const [extractable, wwt] = m.C_GetAttributeValue(s, key, [{ type: pkcs11.CKA_EXTRACTABLE }, { type: pkcs11.CKA_WRAP_WITH_TRUSTED }]);
      if ((extractable.value as Buffer)[0] !== 1 || (wwt.value as Buffer)[0] !== 1) return null;
      const kek = this.activeKek(m, s, region);
      return encodeBlob({ kek: kek.id, ...kindOf(m, s, key), payload: wrapKey(m, s, kek.handle, key) });
    });
  }

  /** The CKA_IDs of the token's secret and private key objects (CMK versions among them). */
  tokenObjectIds(): Promise<string[]> {
    return this.token.exec((m, s) => {
      this.token.seeOtherWriters(m, s);
      return [pkcs11.CKO_SECRET_KEY, pkcs11.CKO_PRIVATE_KEY].flatMap((cls) => findAll(m, s, [{ type: pkcs11.CKA_CLASS, value: cls }, { type: pkcs11.CKA_TOKEN, value: true }]).map((o) => o.id));
    });
  }

  /**
   * The SO makes the KEK as a public session object that can neither wrap nor unwrap (see
   * wrapping.ts), and the user copies exactly that object into a private token KEK, then
   * destroys it: no other process ever sees it, and a crash takes it along. A KEK of that id
   * already there (a concurrent set-up or rotation) is never doubled.
   */
  private async createKek(region: string, generation: number): Promise<string> {
    const soPin = this.soPin();
    if (!soPin) throw new HsmError(`a key-encryption key for region ${region} must be made by the security officer: give the SO PIN (KMS_HSM_SO_PIN_FILE, KMS_HSM_SO_PIN or the profile's soPinFile)`);
    if (!this.token.supports(WRAP_MECHANISM)) throw new HsmError('wrapped key storage needs CKM_AES_KEY_WRAP_PAD, which this token does not list');
    const id = kekId(region, generation);
    const refuseTwin = (m: Pkcs11, s: Handle) => {
      this.token.seeOtherWriters(m, s);
      if (listKeks(m, s).some((k) => k.id === id)) throw new HsmError(`the key-encryption key ${id} exists already: another set-up or rotation made it; run the command again`);
    };
    await this.token.exec(refuseTwin);
    const made = this.token.asSecurityOfficer(soPin, (_m, s) => generateKeyNested(this.token.modulePath, s, pkcs11.CKM_AES_KEY_GEN, kekTemplate(pendingKekId(region, generation))));
    this.token.onKeeperSession((m, s) => {
      try {
        refuseTwin(m, s);
        m.C_CopyObject(s, made, kekCopyTemplate(id));
      } finally {
        m.C_DestroyObject(s, made);
      }
    });
    this.listedAt = 0;
    Log.info('key-encryption key created', { region, generation, id });
    return id;
  }

  /** Destroys the public KEKs an earlier release left in the token (see listPendingKeks). */
  private async destroyPendingKeks(): Promise<void> {
    const gone = await this.token.exec((m, s) => {
      this.token.seeOtherWriters(m, s);
      const pending = listPendingKeks(m, s);
      for (const p of pending) m.C_DestroyObject(s, p.handle);
      return pending.map((p) => p.id);
    });
    if (gone.length) Log.warn('destroyed public key-encryption keys a crash had left in the token', { ids: gone.join(', ') });
  }

  private activeKek(m: Pkcs11, s: Handle, region: string | undefined): { id: string; handle: Handle } {
    this.sync();
    this.refresh(m, s);
    const active = this.infos().find((k) => k.region === region && k.active);
    if (!active) throw new HsmError(`region ${region} has no key-encryption key: run kms migrate with KMS_KEY_STORAGE=wrapped`);
    return { id: active.id, handle: this.keks.get(active.id)! };
  }

  private kek(m: Pkcs11, s: Handle, id: string): Handle {
    this.sync();
    if (!this.keks.has(id)) this.refresh(m, s, true);
    const h = this.keks.get(id);
    if (!h) throw new HsmError(`the key-encryption key ${id} is not in the token`);
    return h;
  }

  private refresh(m: Pkcs11, s: Handle, force = false): void {
    if (!force && Date.now() - this.listedAt < KEK_LIST_TTL_MS) return;
    this.keks = new Map(listKeks(m, s).map((k) => [k.id, k.handle]));
    this.listedAt = Date.now();
  }

  private infos(): KekInfo[] {
    const all = [...this.keks.keys()].map((id) => ({ id, ...parseKekId(id)! }));
    return all.map((k) => ({ ...k, active: !all.some((o) => o.region === k.region && o.generation > k.generation) }));
  }

  /** Handles belong to one module instance and one login: after either changed, forget them. */
  private sync(): void {
    if (this.token.epoch === this.epoch) return;
    this.cache.reset();
    this.keks.clear();
    this.listedAt = 0;
    this.epoch = this.token.epoch;
  }
}

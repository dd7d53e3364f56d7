import * as crypto from 'node:crypto';
import { Suite } from './algorithms';
import { CacheEntry, DataKeyCache } from './data-key-cache';
import { EncryptSDKError, EncryptSDKErrorCode, MasterKeyFailure, invalidParameter } from './errors';
import { KmsCallError, KmsClient, KmsConnection, isLoopbackHost } from './kms-client';
import { EncryptedDataKey, MAX_MASTER_KEYS } from './message-format';

/** A CMK and its region: the seed's NewMasterKey / AddMasterKey entries. */
export interface MasterKey {
  region: string;
  keyId: string;
}

export interface KeyManagerOptions extends KmsConnection {
  /**
   * The primary CMK first, then up to 4 backups (best in other regions). Decrypt uses only
   * these (strict mode) unless `discovery` is set; none: a KeyManager in discovery mode that
   * only decrypts.
   */
  masterKeys: MasterKey[];
  /**
   * Decrypt with whatever CMK a message names, as far as the credential may use it (the AWS
   * Encryption SDK's discovery mode). Off by default: decrypt then uses only `masterKeys`.
   */
  discovery?: boolean;
  /** Messages one cached data key encrypts before a new one is generated; 0: no limit (the seed's msgCount). Default 10000. */
  msgCount?: number;
  /** Seconds a data key encrypts for from when it was generated; 0: no limit (the seed's enExpireTime). Default 300. */
  enExpireTime?: number;
  /** Seconds a decrypted data key stays cached; 0: no limit (the seed's deExpireTime). Default 300. */
  deExpireTime?: number;
  /** Data keys kept, for encryption and for decryption each (least recently used out first); 0: no cache. Default 100. */
  cacheCapacity?: number;
  /** Plaintext bytes one cached data key encrypts before a new one is generated; 0: no limit. */
  maxBytesPerDataKey?: number;
}

/** What encrypting a message takes: a data key (the caller's copy, to zero) and its encryptions. */
export interface EncryptionMaterials {
  dataKey: Buffer;
  encryptedDataKeys: EncryptedDataKey[];
  /** The master key that generated the data key (the first usable one). */
  masterKey: MasterKey;
  /** Master keys that could not encrypt the data key, left out of the message. */
  skipped: MasterKeyFailure[];
  /** Counts bytes a stream encrypted against the data key's byte limit. */
  addBytes(n: number): void;
}

export interface DecryptionMaterials {
  dataKey: Buffer;
  /** The master key whose encryption of the data key was used. */
  masterKey: MasterKey;
}

interface Generated {
  encryptedDataKeys: EncryptedDataKey[];
  masterKey: MasterKey;
  skipped: MasterKeyFailure[];
}

const DEFAULT_CAPACITY = 100;
/** The code of a master key that strict mode refuses to decrypt with, in `attempts`. */
const NOT_ALLOWED = 'MasterKeyNotAllowed';
/**
 * Cache limits when the caller gives none. The seed's 0 (no limit) stays available, but a
 * data key cached without limit outlives the CMK's disabling or deletion: these bound how long
 * (and for how many messages) local use goes on after it.
 */
export const DEFAULT_MSG_COUNT = 10_000;
export const DEFAULT_EXPIRE_SECONDS = 300;

const count = (v: unknown, name: string, dflt = 0): number => {
  if (v === undefined) return dflt;
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) throw invalidParameter(`${name} must be a whole number, 0 or more`);
  return v;
};
const text = (v: unknown, name: string): string => {
  if (typeof v !== 'string' || v.length === 0) throw invalidParameter(`${name} must be a non-empty string`);
  return v;
};

/**
 * The seed's KeyManager: the credential, the master keys and the data-key cache. One per
 * application (or per credential); `close()` zeroes its keys and closes its connections.
 */
export class KeyManager {
  readonly masterKeys: readonly MasterKey[];
  /** Off: strict mode, decrypt uses only `masterKeys`. */
  readonly discovery: boolean;
  readonly msgCount: number;
  readonly enExpireTime: number;
  readonly deExpireTime: number;
  readonly maxBytesPerDataKey: number;
  private readonly client: KmsClient;
  private readonly encryptionCache: DataKeyCache<Generated>;
  private readonly decryptionCache: DataKeyCache<MasterKey>;

  constructor(options: KeyManagerOptions) {
    if (typeof options !== 'object' || options === null) throw invalidParameter('KeyManager takes { endpoint, secretId, secretKey, masterKeys, ... }');
    const endpoint = text(options.endpoint, 'endpoint');
    let url: URL;
    try {
      url = new URL(endpoint);
    } catch {
      throw invalidParameter(`endpoint ${JSON.stringify(endpoint)} is not a URL`);
    }
    if (url.protocol !== 'https:' && !(url.protocol === 'http:' && isLoopbackHost(url.hostname))) {
      // Data keys travel in plaintext in GenerateDataKey's and Decrypt's answers: only TLS, or the host's own loopback, keeps them.
      throw invalidParameter(`endpoint must be an https:// URL (http:// only to a loopback host: localhost, 127.x.x.x, [::1]); got ${url.protocol}//${url.host}`);
    }
    text(options.secretId, 'secretId');
    text(options.secretKey, 'secretKey');
    const mks = options.masterKeys;
    // None is fine for a KeyManager that only decrypts: a message names its own master keys.
    if (!Array.isArray(mks) || mks.length > MAX_MASTER_KEYS) throw invalidParameter(`masterKeys must list up to ${MAX_MASTER_KEYS} master keys`);
    this.masterKeys = Object.freeze(mks.map((k, i) => ({ region: text(k?.region, `masterKeys[${i}].region`), keyId: text(k?.keyId, `masterKeys[${i}].keyId`) })));
    for (const k of this.masterKeys) if (Buffer.byteLength(k.region) > 255 || Buffer.byteLength(k.keyId) > 255) throw invalidParameter('a master key\'s region and keyId must be at most 255 bytes');
    if (options.discovery !== undefined && typeof options.discovery !== 'boolean') throw invalidParameter('discovery must be true or false');
    this.discovery = options.discovery === true;
    if (!this.discovery && this.masterKeys.length === 0) throw invalidParameter('give masterKeys (decrypt then uses only them), or discovery: true to decrypt with any CMK a message names');
    this.msgCount = count(options.msgCount, 'msgCount', DEFAULT_MSG_COUNT);
    this.enExpireTime = count(options.enExpireTime, 'enExpireTime', DEFAULT_EXPIRE_SECONDS);
    this.deExpireTime = count(options.deExpireTime, 'deExpireTime', DEFAULT_EXPIRE_SECONDS);
    this.maxBytesPerDataKey = count(options.maxBytesPerDataKey, 'maxBytesPerDataKey');
    const capacity = options.cacheCapacity === undefined ? DEFAULT_CAPACITY : count(options.cacheCapacity, 'cacheCapacity');
    if (options.timeoutMs !== undefined && (count(options.timeoutMs, 'timeoutMs') === 0)) throw invalidParameter('timeoutMs must be at least 1');
    this.encryptionCache = new DataKeyCache(capacity);
    this.decryptionCache = new DataKeyCache(capacity);
    this.client = new KmsClient(options);
  }

  /** Zeroes every cached data key. */
  clearCache(): void {
    this.encryptionCache.clear();
    this.decryptionCache.clear();
  }

  /** Zeroes the cache and closes the kept-alive connections. */
  close(): void {
    this.clearCache();
    this.client.close();
  }

  /** @internal A data key for a message of `bytes` bytes (0 for a stream: it counts as it goes). */
  async encryptionMaterials(suite: Suite, context: string, bytes: number): Promise<EncryptionMaterials> {
    if (this.masterKeys.length === 0) throw invalidParameter('no master key is set: give masterKeys to encrypt');
    const id = `${suite.algorithm}\n${context}`;
    const cache = this.encryptionCache;
    const oversized = this.maxBytesPerDataKey > 0 && bytes > this.maxBytesPerDataKey;
    if (cache.capacity === 0 || oversized) return this.hand(await this.generate(suite, context), bytes);
    for (;;) {
      let e = cache.get(id);
      if (e && !this.usable(e, bytes)) {
        cache.evict(id, e);
        e = undefined;
      }
      if (!e) {
        e = await cache.load(id, () => this.generate(suite, context));
        // Other messages waiting on the same load may have used it up, or a load for another id pushed it out.
        if (e.evicted) return this.hand(await this.generate(suite, context), bytes);
        if (!this.usable(e, bytes)) continue;
      }
      const m = this.hand(e, bytes, id);
      if (this.msgCount > 0 && e.messages >= this.msgCount) cache.evict(id, e);
      return m;
    }
  }

  /**
   * @internal The data key of a message, from the first of its encryptions the KMS decrypts.
   * In strict mode only encryptions under `masterKeys` are tried, and the CMK the KMS says it
   * used must be one of them too (the header's key id is the sender's word until its MAC is checked).
   */
  async decryptionMaterials(suite: Suite, encrypted: readonly EncryptedDataKey[], context: string): Promise<DecryptionMaterials> {
    const failures: MasterKeyFailure[] = [];
    for (const edk of encrypted) {
      if (!this.allowed(edk.cmkRegion, edk.cmkKeyId)) {
        failures.push({ region: edk.cmkRegion, keyId: edk.cmkKeyId, code: NOT_ALLOWED, message: 'not among the master keys of this KeyManager (strict mode)' });
        continue;
      }
      const id = crypto.createHash('sha256').update(`${edk.cmkRegion}\n${edk.dataKey}\n${context}`).digest('hex');
      const cache = this.decryptionCache;
      const load = async (): Promise<CacheEntry<MasterKey>> => {
        const r = await this.client.decrypt(edk.cmkRegion, edk.dataKey, context);
        if (!this.allowed(edk.cmkRegion, r.keyId)) {
          r.plaintext.fill(0);
          throw new KmsCallError(NOT_ALLOWED, `the KMS decrypted it with ${r.keyId}, which is not among the master keys of this KeyManager (strict mode)`, false);
        }
        if (r.plaintext.length !== suite.keyBytes) {
          r.plaintext.fill(0);
          throw new KmsCallError('WrongDataKeyLength', `the data key is ${r.plaintext.length} bytes, not ${suite.keyBytes}`, false);
        }
        return { key: r.plaintext, value: { region: edk.cmkRegion, keyId: r.keyId }, createdAt: Date.now(), messages: 0, bytes: 0 };
      };
      try {
        let e = cache.capacity === 0 ? undefined : cache.get(id);
        if (e && this.deExpireTime > 0 && Date.now() - e.createdAt >= this.deExpireTime * 1000) {
          cache.evict(id, e);
          e = undefined;
        }
        // An entry the cache does not keep is this message's alone: zeroed once copied.
        let owned = false;
        if (!e && cache.capacity > 0) e = await cache.load(id, load);
        if (!e || e.evicted) {
          e = await load();
          owned = true;
        }
        const dataKey = Buffer.from(e.key);
        if (owned) e.key.fill(0);
        return { dataKey, masterKey: e.value };
      } catch (err) {
        failures.push(failure({ region: edk.cmkRegion, keyId: edk.cmkKeyId }, err));
      }
    }
    if (failures.length > 0 && failures.every((f) => f.code === NOT_ALLOWED)) {
      throw new EncryptSDKError('DecryptDataKeyError', `strict mode: the message's data keys are under master keys this KeyManager does not list (${failures.map((f) => `${f.region}/${f.keyId}`).join(', ')}); add them to masterKeys, or set discovery: true`, { attempts: failures });
    }
    throw failed('DecryptDataKeyError', 'no master key of the message decrypted its data key', failures);
  }

  /** Strict mode: whether `masterKeys` names this CMK; discovery: always. */
  private allowed(region: string, keyId: string): boolean {
    return this.discovery || this.masterKeys.some((k) => k.region === region && k.keyId === keyId);
  }

  private usable(e: CacheEntry<Generated>, bytes: number): boolean {
    if (this.msgCount > 0 && e.messages >= this.msgCount) return false;
    if (this.enExpireTime > 0 && Date.now() - e.createdAt >= this.enExpireTime * 1000) return false;
    if (this.maxBytesPerDataKey > 0 && e.bytes + bytes > this.maxBytesPerDataKey) return false;
    return true;
  }

  /** Counts a message against the entry and hands out a copy of its key. */
  private hand(e: CacheEntry<Generated>, bytes: number, id?: string): EncryptionMaterials {
    e.messages += 1;
    e.bytes += bytes;
    const cache = this.encryptionCache;
    const limit = this.maxBytesPerDataKey;
    const dataKey = Buffer.from(e.key);
    // Not cached: this message's copy is the only one needed.
    if (id === undefined) e.key.fill(0);
    return {
      dataKey,
      encryptedDataKeys: e.value.encryptedDataKeys,
      masterKey: e.value.masterKey,
      skipped: e.value.skipped,
      addBytes: (n) => {
        e.bytes += n;
        if (id !== undefined && limit > 0 && e.bytes >= limit) cache.evict(id, e);
      },
    };
  }

  /** GenerateDataKey on the first master key that answers, then Encrypt of the data key under every other one. */
  private async generate(suite: Suite, context: string): Promise<CacheEntry<Generated>> {
    const failures: MasterKeyFailure[] = [];
    for (let i = 0; i < this.masterKeys.length; i++) {
      const mk = this.masterKeys[i];
      let r;
      try {
        r = await this.client.generateDataKey(mk.region, mk.keyId, suite.keyBytes, context);
      } catch (err) {
        failures.push(failure(mk, err));
        continue;
      }
      if (r.plaintext.length !== suite.keyBytes) {
        r.plaintext.fill(0);
        throw new EncryptSDKError('GenerateDataKeyError', `GenerateDataKey answered ${r.plaintext.length} bytes, not ${suite.keyBytes}`);
      }
      const others = this.masterKeys.slice(i + 1);
      const sealed = await Promise.allSettled(others.map((o) => this.client.encrypt(o.region, o.keyId, r.plaintext, context)));
      const encryptedDataKeys: EncryptedDataKey[] = [{ cmkRegion: mk.region, cmkKeyId: r.keyId, dataKey: r.blob }];
      const skipped = [...failures];
      sealed.forEach((s, j) => {
        if (s.status === 'fulfilled') encryptedDataKeys.push({ cmkRegion: others[j].region, cmkKeyId: s.value.keyId, dataKey: s.value.blob });
        else skipped.push(failure(others[j], s.reason));
      });
      return { key: r.plaintext, value: { encryptedDataKeys, masterKey: { region: mk.region, keyId: r.keyId }, skipped }, createdAt: Date.now(), messages: 0, bytes: 0 };
    }
    throw failed('GenerateDataKeyError', 'no master key generated a data key', failures);
  }
}

function failure(mk: MasterKey, err: unknown): MasterKeyFailure {
  if (err instanceof KmsCallError) return { region: mk.region, keyId: mk.keyId, code: err.unreachable ? 'KmsAccessError' : err.code, message: err.message, ...(err.requestId ? { requestId: err.requestId } : {}) };
  return { region: mk.region, keyId: mk.keyId, code: 'UnknownError', message: (err as Error)?.message ?? String(err) };
}

/** KmsAccessError when the service could not be reached or refused the credential for every key; else `code`. */
function failed(code: EncryptSDKErrorCode, what: string, failures: MasterKeyFailure[]): EncryptSDKError {
  const access = failures.every((f) => f.code === 'KmsAccessError' || f.code.startsWith('AuthFailure'));
  const first = failures.find((f) => f.code !== 'KmsAccessError') ?? failures[0];
  const detail = failures.map((f) => `${f.region}/${f.keyId}: ${f.code} ${f.message}`).join('; ');
  return new EncryptSDKError(access ? 'KmsAccessError' : code, `${what}: ${detail}`, {
    ...(first && first.code !== 'KmsAccessError' ? { kmsCode: first.code } : {}),
    ...(first?.requestId ? { requestId: first.requestId } : {}),
    attempts: failures,
  });
}

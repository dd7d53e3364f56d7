import { Inject, Injectable } from '@nestjs/common';
import * as crypto from 'node:crypto';
import { accountResource, authorize, authorizeUnknownKey, keyResource } from '../accounts/policy';
import { Principal } from '../accounts/principal';
import { Clock } from '../common/clock';
import { AliasAlreadyExistsError, BindingNotFoundError, InvalidParameterError, KeyInUseError, KeyNotFoundError, KeyStateError, UnsupportedKeyUsageError } from '../common/domain-errors';
import { KMS_CONFIG, KmsConfig } from '../config/config';
import { KeyStore } from '../hsm/key-store';
import { ChangeFeed } from '../persistence/change-feed';
import { CmkQuotaService } from '../quotas/cmk-quota.service';
import { KeyCache } from './key-cache';
import { KEY_ORIGINS, KEY_USAGES, MAX_BATCH_KEYS, SUPPORTED_CMK_KINDS, Tag, checkAlias, checkDescription, checkKeyId, checkTags } from './key-params';
import { KeyRecord } from './key-record';
import { BLOCKED_BY_BINDING, KeyOperation, assertAllowed } from './key-states';
import { KeyVersionEntity } from './key-version.entity';
import { KeyEntity } from './key.entity';
import { KeyDetailFilter, KeyRepository } from './key.repository';

export interface CreateKeyInput {
  alias: string;
  description?: string;
  keyUsage?: string;
  /** The face's own rules for this input (its alias syntax): run once the caller is authorized, before the core's checks. */
  faceChecks?: () => void;
  /** One of KEY_ORIGINS (default KMS); anything else is refused as `unknownOrigin`. */
  origin?: string;
  tags?: Tag[];
}

export type DetailQuery = Omit<KeyDetailFilter, 'uin' | 'region'>;

/** States ListKeys reports, as documented. */
const LISTED_STATES = ['Enabled', 'Disabled', 'PendingImport'];
const DAY = 86_400;
export const MIN_DELETION_WINDOW_DAYS = 7;
export const MAX_DELETION_WINDOW_DAYS = 1096;

/** An action a call performs with a key besides its own (ReEncrypt's Decrypt and Encrypt). */
export type KeyAlsoAction = 'Encrypt' | 'Decrypt';

/** The CMK lifecycle: creation, lookups (with isolation and authorization), state changes. */
@Injectable()
export class KeysService {
  constructor(
    @Inject(KMS_CONFIG) private readonly cfg: KmsConfig,
    @Inject(KeyStore) private readonly store: KeyStore,
    private readonly repo: KeyRepository,
    private readonly cache: KeyCache,
    private readonly feed: ChangeFeed,
    private readonly quota: CmkQuotaService,
    private readonly clock: Clock,
  ) {}

  async create(p: Principal, input: CreateKeyInput): Promise<KeyEntity> {
    authorize(p, accountResource(p.region, p.uin));
    input.faceChecks?.();
    checkAlias(input.alias);
    const description = input.description ?? '';
    checkDescription(description);
    const usage = input.keyUsage ?? 'ENCRYPT_DECRYPT';
    if (!(KEY_USAGES as readonly string[]).includes(usage)) throw new InvalidParameterError('KeyUsage', `KeyUsage must be one of ${KEY_USAGES.join(', ')}`, 'unknownKeyUsage');
    if (!SUPPORTED_CMK_KINDS.some((k) => k.keyUsage === usage)) throw new UnsupportedKeyUsageError(`${usage} keys are not available in region ${p.region}`);
    const origin = input.origin ?? 'KMS';
    if (!(KEY_ORIGINS as readonly string[]).includes(origin)) throw new InvalidParameterError('origin', `origin must be one of ${KEY_ORIGINS.join(', ')}`, 'unknownOrigin');
    const tags = input.tags ?? [];
    checkTags(tags);
    await this.quota.precheck(p.uin);
    if (await this.repo.aliasTaken(p.uin, p.region, input.alias)) throw new AliasAlreadyExistsError(`alias ${input.alias} is in use`);

    const now = this.clock.nowSeconds();
    const keyId = crypto.randomUUID();
    p.touched?.note(keyId);
    const external = origin === 'EXTERNAL';
    const version: KeyVersionEntity | null = external ? null : { id: crypto.randomUUID(), keyId, version: 1, wrapped: null, createdAt: now };
    const standard = this.cfg.regions.find((r) => r.name === p.region)?.standard ?? 'FIPS';
    const key: KeyEntity = {
      keyId,
      uin: p.uin,
      creatorUin: p.callerUin,
      region: p.region,
      alias: input.alias,
      description,
      keyState: external ? 'PendingImport' : 'Enabled',
      keyUsage: usage,
      origin: external ? 'EXTERNAL' : 'KMS',
      standard,
      owner: 'user',
      createdAt: now,
      deletionDate: 0,
      validTo: 0,
      rotationEnabled: false,
      rotateDays: 0,
      nextRotateTime: 0,
      lastRotateTime: 0,
      currentVersion: external ? 0 : 1,
      materialCheck: null,
      updatedAt: now,
    };
    // The quota is checked before the token object is made, and counted again, exactly, in the
    // short transaction that inserts the row: the token call holds no lock, and only a create
    // that loses a race at the quota makes material, which it destroys before answering.
    if (version) {
      const created = await this.store.createAes({ id: version.id }, `cmk ${keyId} v1`, 32);
      version.wrapped = created.wrapped?.toString('base64') ?? null;
    }
    try {
      await this.repo.transaction(async (m) => {
        await this.quota.assertCanCreate(m, p.uin);
        await this.repo.insert(m, key, version, tags.map((t) => ({ keyId, tagKey: t.TagKey, tagValue: t.TagValue })));
        await this.feed.publish(m, 'key', keyId);
      });
    } catch (e) {
      // The row was refused (the quota, or a concurrent create took the alias): drop the orphan material.
      if (version) await this.store.destroy({ id: version.id }).catch(() => undefined);
      if (/unique|duplicate/i.test((e as Error).message)) throw new AliasAlreadyExistsError(`alias ${input.alias} is in use`);
      throw e;
    }
    return key;
  }

  /**
   * The caller's key, from the cache. Unknown ids and other accounts' or regions' keys alike
   * answer KeyNotFoundError; a sub-user's policy is checked against the key's resource name.
   * `also` names an action the call performs with the key besides its own (ReEncrypt
   * decrypts with the source and encrypts with the destination).
   */
  async get(p: Principal, keyId: string, also?: KeyAlsoAction): Promise<KeyRecord> {
    checkKeyId(keyId);
    p.touched?.note(keyId);
    const rec = await this.cache.get(keyId);
    if (!rec || rec.key.uin !== p.uin || rec.key.region !== p.region) {
      // Judged by every right the call needs, as an existing key would be.
      authorizeUnknownKey(p, keyId);
      if (also) authorizeUnknownKey(p, keyId, also);
      throw new KeyNotFoundError(keyId);
    }
    authorize(p, keyResource(p.region, p.uin, rec.key.creatorUin, keyId));
    if (also) this.authorizeAlso(p, rec, also);
    return rec;
  }

  /**
   * For a call that also performs `action` on a key it got (ReEncrypt decrypts with the
   * source and encrypts with the destination): the caller must be allowed that action too,
   * or the call would do what a policy denies.
   */
  authorizeAlso(p: Principal, rec: KeyRecord, action: KeyAlsoAction): void {
    authorize(p, keyResource(p.region, p.uin, rec.key.creatorUin, rec.key.keyId), action);
  }

  /** As `get`, but read from the database: for a caller that knows the cached record is older than what it holds. */
  async getUncached(p: Principal, keyId: string): Promise<KeyRecord> {
    await this.get(p, keyId);
    const rec = await this.repo.load(keyId);
    if (!rec) throw new KeyNotFoundError(keyId);
    return rec;
  }

  async getMany(p: Principal, keyIds: string[]): Promise<KeyRecord[]> {
    checkKeyIds(keyIds);
    return Promise.all(keyIds.map((id) => this.get(p, id)));
  }

  list(p: Principal, offset: number, limit: number): Promise<{ rows: KeyEntity[]; total: number }> {
    authorize(p, accountResource(p.region, p.uin));
    return this.repo.detailPage({ uin: p.uin, region: p.region, states: LISTED_STATES, offset, limit, newestFirst: false, tags: [] });
  }

  listDetail(p: Principal, q: DetailQuery): Promise<{ rows: KeyEntity[]; total: number }> {
    authorize(p, accountResource(p.region, p.uin));
    return this.repo.detailPage({ ...q, uin: p.uin, region: p.region });
  }

  setEnabled(p: Principal, keyId: string, enabled: boolean): Promise<void> {
    return enabled ? this.change(p, keyId, 'Enable', () => ({ keyState: 'Enabled' })) : this.change(p, keyId, 'Disable', () => ({ keyState: 'Disabled' }));
  }

  /** All or nothing: every key is checked before any changes. */
  async setEnabledMany(p: Principal, keyIds: string[], enabled: boolean): Promise<void> {
    checkKeyIds(keyIds);
    const op: KeyOperation = enabled ? 'Enable' : 'Disable';
    const keys = await Promise.all(keyIds.map((id) => this.fresh(p, id)));
    for (const k of keys) await this.check(k, op);
    const target = enabled ? 'Enabled' : 'Disabled';
    await this.repo.transaction(async (m) => {
      for (const k of keys) {
        if (k.keyState === target) continue;
        if (!enabled) {
          await this.repo.lock(m, k.keyId);
          if (await this.repo.isBound(k.keyId, m)) throw new KeyInUseError(`CMK ${k.keyId} is used by a cloud product; unbind it first`);
        }
        if (!(await this.repo.transition(m, k.keyId, [k.keyState], { keyState: target, updatedAt: this.clock.nowSeconds() }))) throw new KeyStateError('changing', op);
        await this.feed.publish(m, 'key', k.keyId);
      }
    });
  }

  archive(p: Principal, keyId: string): Promise<void> {
    return this.change(p, keyId, 'Archive', () => ({ keyState: 'Archived' }));
  }

  cancelArchive(p: Principal, keyId: string): Promise<void> {
    return this.change(p, keyId, 'CancelArchive', () => ({ keyState: 'Enabled' }));
  }

  /** `days` within MIN..MAX_DELETION_WINDOW_DAYS, the union of what the faces allow; each face checks its own range first. */
  async scheduleDeletion(p: Principal, keyId: string, days: number): Promise<number> {
    if (!Number.isInteger(days) || days < MIN_DELETION_WINDOW_DAYS || days > MAX_DELETION_WINDOW_DAYS) {
      throw new InvalidParameterError('pendingWindowDays', `a deletion window is ${MIN_DELETION_WINDOW_DAYS} to ${MAX_DELETION_WINDOW_DAYS} days`, 'deletionWindow');
    }
    const deletionDate = this.clock.nowSeconds() + days * DAY;
    await this.change(p, keyId, 'ScheduleDeletion', () => ({ keyState: 'PendingDelete', deletionDate }));
    return deletionDate;
  }

  /** Back to Disabled, or to PendingImport for an EXTERNAL key that never received material. */
  cancelDeletion(p: Principal, keyId: string): Promise<void> {
    return this.change(p, keyId, 'CancelDeletion', (k) => ({ keyState: k.currentVersion === 0 ? 'PendingImport' : 'Disabled', deletionDate: 0 }));
  }

  async updateAlias(p: Principal, keyId: string, alias: string): Promise<void> {
    checkAlias(alias);
    const key = await this.fresh(p, keyId);
    if (key.alias !== alias && (await this.repo.aliasTaken(p.uin, p.region, alias))) throw new AliasAlreadyExistsError(`alias ${alias} is in use`);
    try {
      await this.change(p, keyId, 'Update', () => ({ alias }));
    } catch (e) {
      if (/unique|duplicate/i.test((e as Error).message)) throw new AliasAlreadyExistsError(`alias ${alias} is in use`);
      throw e;
    }
  }

  updateDescription(p: Principal, keyId: string, description: string): Promise<void> {
    checkDescription(description);
    return this.change(p, keyId, 'Update', () => ({ description }));
  }

  /** Records that a cloud product's resource uses the key, and cancels the key's material expiry so it cannot lapse under it. */
  async bind(p: Principal, keyId: string, productId: string, resourceId: string): Promise<void> {
    checkBinding(productId, resourceId);
    const key = await this.fresh(p, keyId);
    assertAllowed(key.keyState, 'Bind');
    // The row is written first, conditionally on the state read: a concurrent disable or
    // deletion either sees the binding or makes this write fail.
    const done = await this.repo.transaction(async (m) => {
      if (!(await this.repo.transition(m, keyId, [key.keyState], { validTo: 0, updatedAt: this.clock.nowSeconds() }))) return false;
      await this.repo.bind(m, { keyId, productId, resourceId, createdAt: this.clock.nowSeconds() });
      await this.feed.publish(m, 'key', keyId);
      return true;
    });
    if (!done) throw new KeyStateError('changing', 'Bind');
  }

  async unbind(p: Principal, keyId: string, productId: string, resourceId: string): Promise<void> {
    checkBinding(productId, resourceId);
    await this.fresh(p, keyId);
    const removed = await this.repo.transaction((m) => this.repo.unbind(m, keyId, productId, resourceId));
    if (!removed) throw new BindingNotFoundError(`CMK ${keyId} is not bound to ${productId}/${resourceId}`);
  }

  /** Management operations read the row itself, not the cache, and write conditionally on the state they read. */
  private async fresh(p: Principal, keyId: string): Promise<KeyEntity> {
    return (await this.getUncached(p, keyId)).key;
  }

  private async check(key: KeyEntity, op: KeyOperation): Promise<void> {
    assertAllowed(key.keyState, op);
    if (BLOCKED_BY_BINDING.has(op) && (await this.repo.isBound(key.keyId))) throw new KeyInUseError(`CMK ${key.keyId} is used by a cloud product; unbind it first`);
  }

  private async change(p: Principal, keyId: string, op: KeyOperation, patch: (k: KeyEntity) => Partial<KeyEntity>, retried = false): Promise<void> {
    const key = await this.fresh(p, keyId);
    await this.check(key, op);
    const next = patch(key);
    if (Object.entries(next).every(([f, v]) => key[f as keyof KeyEntity] === v)) return;
    const done = await this.repo.transaction(async (m) => {
      if (BLOCKED_BY_BINDING.has(op)) {
        await this.repo.lock(m, keyId);
        if (await this.repo.isBound(keyId, m)) throw new KeyInUseError(`CMK ${keyId} is used by a cloud product; unbind it first`);
      }
      if (!(await this.repo.transition(m, keyId, [key.keyState], { ...next, updatedAt: this.clock.nowSeconds() }))) return false;
      await this.feed.publish(m, 'key', keyId);
      return true;
    });
    // Another writer changed the state between our read and write: judge again on the new state.
    if (!done && !retried) return this.change(p, keyId, op, patch, true);
    if (!done) throw new KeyStateError('changing', op);
  }
}

function checkKeyIds(keyIds: string[]): void {
  if (keyIds.length < 1 || keyIds.length > MAX_BATCH_KEYS) throw new InvalidParameterError('KeyIds', `KeyIds takes 1 to ${MAX_BATCH_KEYS} ids`);
  keyIds.forEach((id) => checkKeyId(id, 'KeyIds'));
  if (new Set(keyIds).size !== keyIds.length) throw new InvalidParameterError('KeyIds', 'KeyIds lists an id twice', 'repeatedKeyId');
}

function checkBinding(productId: string, resourceId: string): void {
  if (!/^[\w.-]{1,64}$/.test(productId)) throw new InvalidParameterError('ProductId', 'ProductId must be 1-64 letters, digits, _ . -');
  if (resourceId.length < 1 || resourceId.length > 255) throw new InvalidParameterError('ResourceId', 'ResourceId must be 1-255 characters');
}

import { Inject, Injectable } from '@nestjs/common';
import * as crypto from 'node:crypto';
import { accountResource, authorize, authorizeUnknownKey, keyResource } from '../accounts/policy';
import { Principal } from '../accounts/principal';
import { Clock } from '../common/clock';
import { AccountNotFoundError } from '../accounts/accounts.service';
import { AliasAlreadyExistsError, BindingNotFoundError, DefaultKeyError, InvalidParameterError, KeyInUseError, KeyNotFoundError, KeyStateError, UnsupportedKeyUsageError } from '../common/domain-errors';
import { KMS_CONFIG, KmsConfig } from '../config/config';
import { CreatedMaterial, KeyStore, MaterialRef, SecretKind } from '../hsm/key-store';
import { CmkQuotaService } from '../quotas/cmk-quota.service';
import { KeyCache } from './key-cache';
import { DEFAULT_KEY_ALIAS_SUFFIX, DEFAULT_KEY_SPEC, DEFAULT_KEY_USAGE, KEY_ORIGINS, KEY_SPECS, KEY_USAGES, MAX_BATCH_KEYS, SUPPORTED_CMK_KINDS, KeyFamily, KeyPurpose, Tag, checkAlias, checkDescription, checkKeyId, checkSearchText, checkStorableText, checkTags, isAsymmetricSpec, isKeySpec, isKeyUsage, isPairPurpose, keyKind, pairKindAvailable, secretKindOf, storedSpecOf, usageOfSpec } from './key-params';
import { KeyRecord } from './key-record';
import { BLOCKED_BY_BINDING, KeyOperation, assertAllowed } from './key-states';
import { KeyVersionEntity } from './key-version.entity';
import { KeyEntity } from './key.entity';
import { KeyDetailFilter, KeyRepository, LOST, STATE } from './key.repository';
import { MaterialJournal } from './material-journal';

export interface CreateKeyInput {
  alias: string;
  description?: string;
  /** One of KEY_USAGES (default aes:encrypt-decrypt); anything else is refused as `unknownKeyUsage`. */
  keyUsage?: string;
  /** One of KEY_SPECS (default aes-256); it fixes the usage, which must agree when given too. */
  keySpec?: string;
  /** Plain material for the key (a face that accepts it checks the transport): zeroed here whatever happens. */
  material?: Buffer;
  /** The face's own rules for this input (its alias syntax): run once the caller is authorized, before the core's checks. */
  faceChecks?: () => void;
  /** One of KEY_ORIGINS (default generated); anything else is refused as `unknownOrigin`. */
  origin?: string;
  tags?: Tag[];
}

export type DetailQuery = Omit<KeyDetailFilter, 'uin' | 'region'>;

/** States ListKeys reports, as documented. */
const LISTED_STATES = ['Enabled', 'Disabled', 'PendingImport'];
const DAY = 86_400;
export const MIN_DELETION_WINDOW_DAYS = 7;
export const MAX_DELETION_WINDOW_DAYS = 1096;

/** What no caller may do to a default key. */
const REFUSED_FOR_DEFAULT_KEYS: ReadonlySet<KeyOperation> = new Set(['Disable', 'Archive', 'ScheduleDeletion', 'Update']);

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
    private readonly quota: CmkQuotaService,
    private readonly clock: Clock,
    private readonly journal: MaterialJournal,
  ) {}

  async create(p: Principal, input: CreateKeyInput): Promise<KeyEntity> {
    authorize(p, accountResource(p.region, p.uin));
    input.faceChecks?.();
    return this.make(p, input, false);
  }

  /**
   * A default key of the account in the region, aliased `<service>/default`: the operator makes
   * it (no face can), callers then use it but cannot disable, delete, rename or re-describe it,
   * and it does not count against the quota.
   */
  async createDefault(uin: string, region: string, alias: string, description = ''): Promise<KeyEntity> {
    if (!this.cfg.regions.some((r) => r.name === region)) throw new InvalidParameterError('region', `region ${region} is not served here`, 'value');
    if (!alias.endsWith(DEFAULT_KEY_ALIAS_SUFFIX) || alias.length === DEFAULT_KEY_ALIAS_SUFFIX.length) throw new InvalidParameterError('Alias', `a default key's alias is <service>${DEFAULT_KEY_ALIAS_SUFFIX}`, 'badAlias');
    if (!(await this.repo.accountExists(uin))) throw new AccountNotFoundError(`no account ${uin}`);
    return this.make({ uin, callerUin: uin, region, secretId: '', action: 'CreateKey' }, { alias, description }, true);
  }

  /**
   * A new version's material in the token: a secret key (AES or HMAC, made there or from plain
   * `material`), a standard key pair, or an SM2 pair through the profile's mechanisms.
   */
  private createMaterial(ref: MaterialRef, label: string, { spec, purpose }: { spec: KeyFamily; purpose: KeyPurpose }, secret: SecretKind, material?: Buffer): Promise<CreatedMaterial> {
    if (isAsymmetricSpec(spec) && isPairPurpose(purpose)) {
      if (spec === 'sm2') return this.store.createSm2Pair(ref, label, purpose);
      return this.store.createKeyPair(ref, label, spec, purpose);
    }
    return material ? this.store.importSecret(ref, label, secret, material) : this.store.createSecret(ref, label, secret);
  }

  private async make(p: Principal, input: CreateKeyInput, isDefault: boolean): Promise<KeyEntity> {
    try {
      return await this.makeChecked(p, input, isDefault);
    } finally {
      input.material?.fill(0);
    }
  }

  private async makeChecked(p: Principal, input: CreateKeyInput, isDefault: boolean): Promise<KeyEntity> {
    checkAlias(input.alias);
    const description = input.description ?? '';
    checkDescription(description);
    const spec = input.keySpec ?? DEFAULT_KEY_SPEC;
    if (!isKeySpec(spec)) throw new InvalidParameterError('keySpec', (n) => `${n('keySpec')} must be one of ${KEY_SPECS.join(', ')}`, 'value');
    const secret = secretKindOf(spec);
    if (input.material && input.material.length !== secret.bytes) throw new InvalidParameterError('material', `${spec} material is ${secret.bytes} bytes`, 'value');
    if (input.keySpec && input.keyUsage && input.keyUsage !== usageOfSpec(spec)) throw new InvalidParameterError('keyUsage', (n) => `a ${spec} key's ${n('keyUsage')} is ${usageOfSpec(spec)}`, 'value');
    const usage = input.keySpec ? usageOfSpec(spec) : (input.keyUsage ?? DEFAULT_KEY_USAGE);
    if (!isKeyUsage(usage)) throw new InvalidParameterError('keyUsage', (n) => `${n('keyUsage')} must be one of ${KEY_USAGES.join(', ')}`, 'unknownKeyUsage');
    if (!input.keySpec && !SUPPORTED_CMK_KINDS.some((k) => k.keyUsage === usage)) throw new UnsupportedKeyUsageError(usage, (u) => `${u} keys are not available in region ${p.region}`);
    // Plain material makes an imported key that is usable at once.
    const origin = input.material ? 'imported' : (input.origin ?? 'generated');
    if (!(KEY_ORIGINS as readonly string[]).includes(origin)) throw new InvalidParameterError('origin', `origin must be one of ${KEY_ORIGINS.join(', ')}`, 'unknownOrigin');
    const kind = keyKind(usage);
    // Material is imported only for secret keys: a key pair is always made in the token.
    if (origin === 'imported' && isAsymmetricSpec(kind.spec)) throw new InvalidParameterError('origin', 'key pairs are made by the service, never imported', 'originNotForUsage');
    if (isAsymmetricSpec(kind.spec) && isPairPurpose(kind.purpose) && !(await pairKindAvailable(this.store, kind.spec, kind.purpose))) throw new UnsupportedKeyUsageError(usage, (u) => `this service's HSM cannot make or use ${u} keys`);
    const tags = input.tags ?? [];
    checkTags(tags);
    if (!isDefault) await this.quota.precheck(p.uin);
    if (await this.repo.aliasTaken(p.uin, p.region, input.alias)) throw new AliasAlreadyExistsError(`alias ${input.alias} is in use`);

    const now = this.clock.nowSeconds();
    const keyId = crypto.randomUUID();
    p.touched?.note(keyId);
    const awaitsMaterial = origin === 'imported' && !input.material;
    const version: KeyVersionEntity | null = awaitsMaterial ? null : { id: crypto.randomUUID(), keyId, version: 1, wrapped: null, publicKey: null, createdAt: now };
    const standard = this.cfg.regions.find((r) => r.name === p.region)?.standard ?? 'FIPS';
    const key: KeyEntity = {
      keyId,
      uin: p.uin,
      creatorUin: p.callerUin,
      region: p.region,
      alias: input.alias,
      description,
      keyState: awaitsMaterial ? 'PendingImport' : 'Enabled',
      keyUsage: usage,
      keySpec: storedSpecOf(usage, spec),
      origin,
      standard,
      owner: 'user',
      isDefault,
      createdAt: now,
      deletionDate: 0,
      validTo: 0,
      rotationEnabled: false,
      rotateDays: 0,
      nextRotateTime: 0,
      lastRotateTime: 0,
      currentVersion: awaitsMaterial ? 0 : 1,
      materialCheck: null,
      updatedAt: now,
    };
    // The quota is checked before the token object is made, and counted again, exactly, in the
    // short transaction that inserts the row: the token call holds no lock, and only a create
    // that loses a race at the quota makes material, which it destroys before answering.
    // The object is noted in flight first, so that a crash before the row leaves a trace.
    if (version) await this.journal.begin(version.id);
    try {
      if (version) {
        const label = `cmk ${keyId} v1`;
        const created = await this.createMaterial({ id: version.id, region: p.region }, label, kind, secret, input.material);
        version.wrapped = created.wrapped?.toString('base64') ?? null;
        version.publicKey = created.publicKey?.toString('base64') ?? null;
      }
      await this.repo.transaction(async (m) => {
        if (!isDefault) await this.quota.assertCanCreate(m, p.uin);
        await this.repo.insert(m, key, version, tags.map((t) => ({ keyId, tagKey: t.key, tagValue: t.value })));
        if (version) await this.journal.settle(m, version.id);
      });
    } catch (e) {
      // No row (the token failed, the quota, or a concurrent create took the alias): drop the orphan material.
      if (version) {
        await this.store.destroy({ id: version.id, wrapped: version.wrapped ? Buffer.from(version.wrapped, 'base64') : undefined }).catch(() => undefined);
        await this.journal.drop(version.id);
      }
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

  /** The caller's key by its alias in the caller's region; an unknown alias answers KeyNotFoundError, judged like an unknown id. */
  async getByAlias(p: Principal, alias: string): Promise<KeyRecord> {
    checkAlias(alias);
    const keyId = await this.repo.keyIdOfAlias(p.uin, p.region, alias);
    if (!keyId) {
      authorizeUnknownKey(p, '*');
      throw new KeyNotFoundError(alias);
    }
    return this.get(p, keyId);
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
    checkSearchText('search', q.tags, q.search);
    return this.repo.detailPage({ ...q, uin: p.uin, region: p.region });
  }

  /** The caller's CMK counts: in its region, and over the account (what the quota counts), with the quota. */
  async counts(p: Principal): Promise<{ region: number; account: number; quota: number }> {
    authorize(p, accountResource(p.region, p.uin));
    const [region, account] = await Promise.all([this.repo.countInRegion(p.uin, p.region), this.repo.countForAccount(p.uin)]);
    return { region, account, quota: this.cfg.cmkQuota };
  }

  /**
   * `strict`: the key must be in the opposite state (checked inside the conditional write, so
   * that of concurrent calls only one succeeds); otherwise a key already in the target state
   * is left as it is.
   */
  setEnabled(p: Principal, keyId: string, enabled: boolean, strict = false): Promise<void> {
    const [op, from, to]: [KeyOperation, string, string] = enabled ? ['Enable', 'Disabled', 'Enabled'] : ['Disable', 'Enabled', 'Disabled'];
    return this.change(p, keyId, op, () => ({ keyState: to }), strict ? from : undefined);
  }

  /** All or nothing: every key is checked before any changes, and a lost write undoes the batch's others and judges it all again. */
  async setEnabledMany(p: Principal, keyIds: string[], enabled: boolean): Promise<void> {
    checkKeyIds(keyIds);
    const op: KeyOperation = enabled ? 'Enable' : 'Disable';
    await Promise.all(keyIds.map((id) => this.get(p, id)));
    const target = enabled ? 'Enabled' : 'Disabled';
    await this.repo.retry(op, async () => {
      const keys = await Promise.all(keyIds.map((id) => this.repo.existing(id)));
      for (const k of keys) await this.check(k, op);
      return this.repo
        .transaction(async (m) => {
          for (const k of keys) {
            if (k.keyState === target) continue;
            if (!enabled) {
              await this.repo.lock(m, k.keyId);
              if (await this.repo.isBound(k.keyId, m)) throw new KeyInUseError(`CMK ${k.keyId} is used by a cloud product; unbind it first`);
            }
            if (!(await this.repo.compareAndSet(m, k, STATE, { keyState: target, updatedAt: this.clock.nowSeconds() }))) throw new BatchLost();
          }
        })
        .catch((e: unknown) => {
          if (e instanceof BatchLost) return LOST;
          throw e;
        });
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

  /** Back to Disabled, or to PendingImport for an imported key that never received material. */
  cancelDeletion(p: Principal, keyId: string): Promise<void> {
    return this.change(p, keyId, 'CancelDeletion', (k) => ({ keyState: k.currentVersion === 0 ? 'PendingImport' : 'Disabled', deletionDate: 0 }));
  }

  async updateAlias(p: Principal, keyId: string, alias: string): Promise<void> {
    checkAlias(alias);
    await this.get(p, keyId);
    const key = await this.repo.existing(keyId);
    // Judged before the new alias is: a default key's alias stays whatever the new one is.
    await this.check(key, 'Update');
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
    await this.get(p, keyId);
    // The row is written first, conditionally on the state read: a concurrent disable or
    // deletion either sees the binding or makes this write fail.
    await this.repo.write(keyId, 'Bind', async (key) => {
      assertAllowed(key.keyState, 'Bind');
      return this.repo.transaction(async (m) => {
        if (!(await this.repo.compareAndSet(m, key, STATE, { validTo: 0, updatedAt: this.clock.nowSeconds() }))) return LOST;
        await this.repo.bind(m, { keyId, productId, resourceId, createdAt: this.clock.nowSeconds() });
      });
    });
  }

  async unbind(p: Principal, keyId: string, productId: string, resourceId: string): Promise<void> {
    checkBinding(productId, resourceId);
    await this.get(p, keyId);
    await this.repo.existing(keyId);
    const removed = await this.repo.transaction((m) => this.repo.unbind(m, keyId, productId, resourceId));
    if (!removed) throw new BindingNotFoundError(`CMK ${keyId} is not bound to ${productId}/${resourceId}`);
  }

  /** The key's versions, oldest first: which exist, when each was made, and which one Encrypt uses. */
  async versions(p: Principal, keyId: string): Promise<{ current: number; versions: Array<{ version: number; createdAt: number }> }> {
    const rec = await this.get(p, keyId);
    const rows = await this.repo.versionsOf(keyId);
    return { current: rec.key.currentVersion, versions: rows.map((r) => ({ version: r.version, createdAt: r.createdAt })) };
  }

  /** The cloud resources bound to the key (BindCloudResource), oldest first. */
  async bindings(p: Principal, keyId: string): Promise<Array<{ productId: string; resourceId: string; createdAt: number }>> {
    await this.get(p, keyId);
    return (await this.repo.bindingsOf(keyId)).map((b) => ({ productId: b.productId, resourceId: b.resourceId, createdAt: b.createdAt }));
  }

  private async check(key: KeyEntity, op: KeyOperation): Promise<void> {
    if (key.isDefault && REFUSED_FOR_DEFAULT_KEYS.has(op)) throw new DefaultKeyError(`CMK ${key.keyId} is a default key; ${op} is not allowed on it`);
    assertAllowed(key.keyState, op);
    if (BLOCKED_BY_BINDING.has(op) && (await this.repo.isBound(key.keyId))) throw new KeyInUseError(`CMK ${key.keyId} is used by a cloud product; unbind it first`);
  }

  /** Management operations judge the row itself, not the cache, and write conditionally on the state they read. */
  private async change(p: Principal, keyId: string, op: KeyOperation, patch: (k: KeyEntity) => Partial<KeyEntity>, from?: string): Promise<void> {
    await this.get(p, keyId);
    await this.repo.write(keyId, op, async (key) => {
      await this.check(key, op);
      if (from !== undefined && key.keyState !== from) throw new KeyStateError(key.keyState, op);
      const next = patch(key);
      if (Object.entries(next).every(([f, v]) => key[f as keyof KeyEntity] === v)) return;
      return this.repo.transaction(async (m) => {
        if (BLOCKED_BY_BINDING.has(op)) {
          await this.repo.lock(m, keyId);
          if (await this.repo.isBound(keyId, m)) throw new KeyInUseError(`CMK ${keyId} is used by a cloud product; unbind it first`);
        }
        return (await this.repo.compareAndSet(m, key, STATE, { ...next, updatedAt: this.clock.nowSeconds() })) ? undefined : LOST;
      });
    });
  }
}

/** Thrown inside a batch's transaction to roll back the writes it made before one lost. */
class BatchLost extends Error {}

function checkKeyIds(keyIds: string[]): void {
  if (keyIds.length < 1 || keyIds.length > MAX_BATCH_KEYS) throw new InvalidParameterError('keyIds', (n) => `${n('keyIds')} takes 1 to ${MAX_BATCH_KEYS} ids`);
  keyIds.forEach((id) => checkKeyId(id, 'keyIds'));
  if (new Set(keyIds).size !== keyIds.length) throw new InvalidParameterError('keyIds', (n) => `${n('keyIds')} lists an id twice`, 'repeatedKeyId');
}

function checkBinding(productId: string, resourceId: string): void {
  if (!/^[\w.-]{1,64}$/.test(productId)) throw new InvalidParameterError('productId', (n) => `${n('productId')} must be 1-64 letters, digits, _ . -`);
  if (resourceId.length < 1 || resourceId.length > 255) throw new InvalidParameterError('resourceId', (n) => `${n('resourceId')} must be 1-255 characters`);
  checkStorableText('resourceId', resourceId);
}

import { Inject, Injectable } from '@nestjs/common';
import { Between, DataSource, EntityManager, FindOptionsWhere, In, IsNull, LessThanOrEqual, MoreThan, SelectQueryBuilder } from 'typeorm';
import { AccountEntity } from '../accounts/account.entity';
import { KeyBusyError, KeyNotFoundError } from '../common/domain-errors';
import { ChangeFeed } from '../persistence/change-feed';
import { KeyBindingEntity } from './key-binding.entity';
import { KeyRecord } from './key-record';
import { KeyTagEntity } from './key-tag.entity';
import { KeyVersionEntity } from './key-version.entity';
import { KeyEntity } from './key.entity';

export interface KeyDetailFilter {
  uin: string;
  region: string;
  offset: number;
  limit: number;
  newestFirst: boolean;
  states?: string[];
  search?: string;
  origin?: string;
  keyUsage?: string;
  /** Keys having a tag of each filter's key (with one of its `values`, when given). */
  tags: TagFilter[];
  /** A substring of the alias, case-insensitive. */
  aliasContains?: string;
}

export interface TagFilter {
  key: string;
  values?: string[];
}

/** A LIKE pattern for a substring, `!` escaping the wildcards. */
const containing = (s: string): string => `%${s.toLowerCase().replace(/[!%_]/g, (c) => '!' + c)}%`;

/**
 * How many rounds a conditional write of a request gets. A round is lost only when another
 * writer changed the row in between and succeeded, so a caller loses at most as often as
 * others write the key: 16 rounds see eight concurrent RotateKey calls all through, and still
 * end a caller that some pathological storm of writers would starve.
 */
export const WRITE_ROUNDS = 16;

/** What a round of `write` answers when its conditional write lost to another writer. */
export const LOST: unique symbol = Symbol('lost');
export type Round<T> = Promise<T | typeof LOST>;

/** Which of the row's fields a conditional write compares with what the caller read. */
export type ReadFields = readonly (keyof KeyEntity)[];
/** The state alone: a state change, or a field no other writer reads. */
export const STATE: ReadFields = ['keyState'];

/**
 * The one owner of the CMK row (`cmks`) and every SQL statement about CMKs. Writes to the row
 * are compare-and-set on the fields the caller read and publish the key's change-feed event
 * in the same transaction, so no writer can forget to tell the caches; a request's write that
 * loses is judged again on the row as it is now, by `write`, up to WRITE_ROUNDS times. Jobs
 * write one round: a key they lose is judged again on their next run.
 */
@Injectable()
export class KeyRepository {
  constructor(
    @Inject(DataSource) private readonly ds: DataSource,
    private readonly feed: ChangeFeed,
  ) {}

  /** The key's row as stored now, not the cache: conditional writes compare with what it holds. */
  row(keyId: string): Promise<KeyEntity | null> {
    return this.ds.getRepository(KeyEntity).findOneBy({ keyId });
  }

  /**
   * Runs `round` on the key's row as stored now until it does not answer LOST, at most
   * WRITE_ROUNDS times; then the key kept changing under the caller: KeyBusyError(op).
   */
  write<T>(keyId: string, op: string, round: (key: KeyEntity) => Round<T>): Promise<T> {
    return this.retry(op, async () => round(await this.existing(keyId)));
  }

  /** `row`, for a key the caller knows exists: one deleted meanwhile is not found. */
  async existing(keyId: string): Promise<KeyEntity> {
    const key = await this.row(keyId);
    if (!key) throw new KeyNotFoundError(keyId);
    return key;
  }

  /** As `write`, for a round that reads rows itself (a batch of keys). */
  async retry<T>(op: string, round: () => Round<T>): Promise<T> {
    for (let i = 0; i < WRITE_ROUNDS; i++) {
      const r = await round();
      if (r !== LOST) return r;
    }
    throw new KeyBusyError(op);
  }

  /**
   * Writes `patch` to the key's row, in `m`'s transaction, if the fields `on` still hold what
   * `read` holds, and publishes the key's change with it. False when another writer came first.
   */
  async compareAndSet(m: EntityManager, read: KeyEntity, on: ReadFields, patch: Partial<KeyEntity>): Promise<boolean> {
    const where: FindOptionsWhere<KeyEntity> = { keyId: read.keyId };
    for (const f of on) (where as Record<string, unknown>)[f] = read[f] == null ? IsNull() : read[f];
    const r = await m.update(KeyEntity, where, patch);
    if (!r.affected) return false;
    await this.feed.publish(m, 'key', read.keyId);
    return true;
  }

  async load(keyId: string): Promise<KeyRecord | null> {
    const key = await this.ds.getRepository(KeyEntity).findOneBy({ keyId });
    if (!key) return null;
    const rows = await this.ds.getRepository(KeyVersionEntity).findBy({ keyId });
    return { key, versions: new Map(rows.map((r) => [r.version, { id: r.id, key: keyId, wrapped: r.wrapped ? Buffer.from(r.wrapped, 'base64') : undefined, publicKey: r.publicKey ? Buffer.from(r.publicKey, 'base64') : undefined }])) };
  }

  /** The key's versions, oldest first, with when each was made. */
  versionsOf(keyId: string): Promise<Array<Pick<KeyVersionEntity, 'version' | 'createdAt'>>> {
    return this.ds.getRepository(KeyVersionEntity).find({ where: { keyId }, select: { version: true, createdAt: true }, order: { version: 'ASC' } });
  }

  /** The resources bound to the key, oldest first. */
  bindingsOf(keyId: string): Promise<KeyBindingEntity[]> {
    return this.ds.getRepository(KeyBindingEntity).find({ where: { keyId }, order: { createdAt: 'ASC', productId: 'ASC', resourceId: 'ASC' } });
  }

  async keyIdOfAlias(uin: string, region: string, alias: string): Promise<string | null> {
    const row = await this.ds.getRepository(KeyEntity).findOne({ where: { uin, region, alias }, select: { keyId: true } });
    return row?.keyId ?? null;
  }

  aliasTaken(uin: string, region: string, alias: string): Promise<boolean> {
    return this.ds.getRepository(KeyEntity).existsBy({ uin, region, alias });
  }

  /** The account's keys in the region, default keys apart (as the quota counts). */
  countInRegion(uin: string, region: string): Promise<number> {
    return this.ds.getRepository(KeyEntity).countBy({ uin, region, isDefault: false });
  }

  /** Keys the quota counts: all but default keys. */
  countForAccount(uin: string): Promise<number> {
    return this.ds.getRepository(KeyEntity).countBy({ uin, isDefault: false });
  }

  accountExists(uin: string): Promise<boolean> {
    return this.ds.getRepository(AccountEntity).existsBy({ uin });
  }

  /**
   * The account's CMK count (as countForAccount), read inside `m`'s transaction after taking the account's row
   * lock (PostgreSQL), so that creates for one account count one after another while other
   * accounts go on. SQLite needs no lock: its transactions all begin as the one writer.
   */
  async countForAccountLocked(m: EntityManager, uin: string): Promise<number> {
    if (m.connection.options.type === 'postgres') await m.getRepository(AccountEntity).createQueryBuilder('a').setLock('pessimistic_write').where('a.uin = :uin', { uin }).getOne();
    return m.getRepository(KeyEntity).countBy({ uin, isDefault: false });
  }

  async insert(m: EntityManager, key: KeyEntity, version: KeyVersionEntity | null, tags: KeyTagEntity[]): Promise<void> {
    await m.insert(KeyEntity, key);
    if (version) await m.insert(KeyVersionEntity, version);
    if (tags.length) await m.insert(KeyTagEntity, tags);
    await this.feed.publish(m, 'key', key.keyId);
  }

  isBound(keyId: string, m: EntityManager = this.ds.manager): Promise<boolean> {
    return m.existsBy(KeyBindingEntity, { keyId });
  }

  /**
   * Locks the key's row until the transaction ends (PostgreSQL; SQLite transactions of a
   * process are serialized already), so that reading its bindings and changing its state
   * cannot interleave with a concurrent BindCloudResource.
   */
  async lock(m: EntityManager, keyId: string): Promise<void> {
    if (this.ds.options.type === 'postgres') await m.query('SELECT 1 FROM cmks WHERE key_id = $1 FOR UPDATE', [keyId]);
  }

  /** Idempotent: binding the same resource twice is not an error. */
  async bind(m: EntityManager, b: KeyBindingEntity): Promise<void> {
    await m.createQueryBuilder().insert().into(KeyBindingEntity).values(b).orIgnore().execute();
  }

  async unbind(m: EntityManager, keyId: string, productId: string, resourceId: string): Promise<boolean> {
    const r = await m.delete(KeyBindingEntity, { keyId, productId, resourceId });
    return (r.affected ?? 0) > 0;
  }

  /** ListKeyDetail: one filtered page and the exact total. */
  async detailPage(f: KeyDetailFilter): Promise<{ rows: KeyEntity[]; total: number }> {
    const q = this.detailQuery(f);
    const dir = f.newestFirst ? 'DESC' : 'ASC';
    const [rows, total] = await q.orderBy('k.createdAt', dir).addOrderBy('k.keyId', dir).skip(f.offset).take(f.limit).getManyAndCount();
    return { rows, total };
  }

  /** How many keys the filter matches (its paging ignored). */
  detailCount(f: KeyDetailFilter): Promise<number> {
    return this.detailQuery(f).getCount();
  }

  private detailQuery(f: KeyDetailFilter): SelectQueryBuilder<KeyEntity> {
    const q = this.ds.getRepository(KeyEntity).createQueryBuilder('k').where('k.uin = :uin AND k.region = :region', { uin: f.uin, region: f.region });
    if (f.states) q.andWhere('k.keyState IN (:...states)', { states: f.states });
    if (f.origin) q.andWhere('k.origin = :origin', { origin: f.origin });
    if (f.keyUsage) q.andWhere('k.keyUsage = :usage', { usage: f.keyUsage });
    if (f.search) q.andWhere("(LOWER(k.alias) LIKE :like ESCAPE '!' OR LOWER(k.keyId) LIKE :like ESCAPE '!')", { like: containing(f.search) });
    if (f.aliasContains) q.andWhere("LOWER(k.alias) LIKE :alike ESCAPE '!'", { alike: containing(f.aliasContains) });
    f.tags.forEach((t, i) => {
      const values = t.values?.length ? ` AND t${i}.tag_value IN (:...tv${i})` : '';
      q.andWhere(`EXISTS (SELECT 1 FROM cmk_tags t${i} WHERE t${i}.key_id = k.key_id AND t${i}.tag_key = :tk${i}${values})`, { [`tk${i}`]: t.key, [`tv${i}`]: t.values });
    });
    return q;
  }

  /** Enabled keys whose rotation is on and due, oldest due first. Disabled and archived keys wait until they are enabled again. */
  dueForRotation(now: number, limit: number): Promise<KeyEntity[]> {
    return this.ds.getRepository(KeyEntity).find({
      where: { keyState: 'Enabled', rotationEnabled: true, nextRotateTime: LessThanOrEqual(now) },
      take: limit,
      order: { nextRotateTime: 'ASC' },
    });
  }

  /** Keys holding imported material whose ValidTo has passed. */
  materialExpired(now: number, limit: number): Promise<KeyEntity[]> {
    return this.ds.getRepository(KeyEntity).find({
      where: { origin: 'imported', currentVersion: MoreThan(0), validTo: Between(1, now) },
      take: limit,
      order: { validTo: 'ASC' },
    });
  }

  /** Keys whose deletion date has come. */
  dueForDeletion(now: number, limit: number): Promise<KeyEntity[]> {
    return this.ds.getRepository(KeyEntity).find({ where: { keyState: 'PendingDelete', deletionDate: LessThanOrEqual(now) }, take: limit, order: { deletionDate: 'ASC' } });
  }

  /** Removes a key's rows if it is still due; true for the one caller that did it. */
  async deleteDue(m: EntityManager, keyId: string, now: number): Promise<boolean> {
    const r = await m.delete(KeyEntity, { keyId, keyState: 'PendingDelete', deletionDate: LessThanOrEqual(now) });
    if (!r.affected) return false;
    await m.delete(KeyVersionEntity, { keyId });
    await m.delete(KeyTagEntity, { keyId });
    await m.delete(KeyBindingEntity, { keyId });
    await this.feed.publish(m, 'key', keyId);
    return true;
  }

  transaction<T>(fn: (m: EntityManager) => Promise<T>): Promise<T> {
    return this.ds.transaction(fn);
  }
}

import { Inject, Injectable } from '@nestjs/common';
import { DataSource, EntityManager, In, LessThanOrEqual } from 'typeorm';
import { AccountEntity } from '../accounts/account.entity';
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
  tags: Array<{ key: string; values?: string[] }>;
}

/** Every SQL statement about CMKs lives here. */
@Injectable()
export class KeyRepository {
  constructor(@Inject(DataSource) private readonly ds: DataSource) {}

  async load(keyId: string): Promise<KeyRecord | null> {
    const key = await this.ds.getRepository(KeyEntity).findOneBy({ keyId });
    if (!key) return null;
    const rows = await this.ds.getRepository(KeyVersionEntity).findBy({ keyId });
    return { key, versions: new Map(rows.map((r) => [r.version, { id: r.id, wrapped: r.wrapped ? Buffer.from(r.wrapped, 'base64') : undefined }])) };
  }

  aliasTaken(uin: string, region: string, alias: string): Promise<boolean> {
    return this.ds.getRepository(KeyEntity).existsBy({ uin, region, alias });
  }

  countForAccount(uin: string): Promise<number> {
    return this.ds.getRepository(KeyEntity).countBy({ uin });
  }

  /**
   * The account's CMK count, read inside `m`'s transaction after taking the account's row
   * lock (PostgreSQL), so that creates for one account count one after another while other
   * accounts go on. SQLite needs no lock: its transactions all begin as the one writer.
   */
  async countForAccountLocked(m: EntityManager, uin: string): Promise<number> {
    if (m.connection.options.type === 'postgres') await m.getRepository(AccountEntity).createQueryBuilder('a').setLock('pessimistic_write').where('a.uin = :uin', { uin }).getOne();
    return m.getRepository(KeyEntity).countBy({ uin });
  }

  async insert(m: EntityManager, key: KeyEntity, version: KeyVersionEntity | null, tags: KeyTagEntity[]): Promise<void> {
    await m.insert(KeyEntity, key);
    if (version) await m.insert(KeyVersionEntity, version);
    if (tags.length) await m.insert(KeyTagEntity, tags);
  }

  /** Applies `patch` only if the key is still in one of `from`; false when another writer came first. */
  async transition(m: EntityManager, keyId: string, from: string[], patch: Partial<KeyEntity>): Promise<boolean> {
    const r = await m.update(KeyEntity, { keyId, keyState: In(from) }, patch);
    return (r.affected ?? 0) > 0;
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
    const q = this.ds.getRepository(KeyEntity).createQueryBuilder('k').where('k.uin = :uin AND k.region = :region', { uin: f.uin, region: f.region });
    if (f.states) q.andWhere('k.keyState IN (:...states)', { states: f.states });
    if (f.origin) q.andWhere('k.origin = :origin', { origin: f.origin });
    if (f.keyUsage) q.andWhere('k.keyUsage = :usage', { usage: f.keyUsage });
    if (f.search) {
      const like = `%${f.search.toLowerCase().replace(/[!%_]/g, (c) => '!' + c)}%`;
      q.andWhere("(LOWER(k.alias) LIKE :like ESCAPE '!' OR LOWER(k.keyId) LIKE :like ESCAPE '!')", { like });
    }
    f.tags.forEach((t, i) => {
      const values = t.values?.length ? ` AND t${i}.tag_value IN (:...tv${i})` : '';
      q.andWhere(`EXISTS (SELECT 1 FROM cmk_tags t${i} WHERE t${i}.key_id = k.key_id AND t${i}.tag_key = :tk${i}${values})`, { [`tk${i}`]: t.key, [`tv${i}`]: t.values });
    });
    const dir = f.newestFirst ? 'DESC' : 'ASC';
    const [rows, total] = await q.orderBy('k.createdAt', dir).addOrderBy('k.keyId', dir).skip(f.offset).take(f.limit).getManyAndCount();
    return { rows, total };
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
    return true;
  }

  transaction<T>(fn: (m: EntityManager) => Promise<T>): Promise<T> {
    return this.ds.transaction(fn);
  }
}

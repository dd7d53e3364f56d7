import { Inject, Injectable } from '@nestjs/common';
import { DataSource, EntityManager, In } from 'typeorm';
import { Tag } from './key-params';
import { KeyTagEntity } from './key-tag.entity';
import { KeyEntity } from './key.entity';

/** A tag to remove: by its key, and only with this value when one is given. */
export interface TagRef {
  key: string;
  value?: string;
}

/** Every SQL statement about CMK tags; filtering keys by tags is KeyRepository.detailPage's. */
@Injectable()
export class KeyTagRepository {
  constructor(@Inject(DataSource) private readonly ds: DataSource) {}

  /** Each key's tags, ordered by tag key; keys without tags map to []. */
  async tagsOf(keyIds: string[], m: EntityManager = this.ds.manager): Promise<Map<string, Tag[]>> {
    const out = new Map<string, Tag[]>(keyIds.map((id) => [id, []]));
    if (!keyIds.length) return out;
    const rows = await m.getRepository(KeyTagEntity).find({ where: { keyId: In(keyIds) }, order: { tagKey: 'ASC' } });
    for (const r of rows) out.get(r.keyId)!.push({ key: r.tagKey, value: r.tagValue });
    return out;
  }

  /** Every tag key of an account's keys in a region, with the distinct values it has. */
  async accountTags(uin: string, region: string): Promise<Array<{ key: string; values: string[] }>> {
    const rows: Array<{ k: string; v: string }> = await this.ds
      .createQueryBuilder()
      .select('DISTINCT t.tag_key', 'k')
      .addSelect('t.tag_value', 'v')
      .from(KeyTagEntity, 't')
      .innerJoin(KeyEntity, 'c', 'c.key_id = t.key_id')
      .where('c.uin = :uin AND c.region = :region', { uin, region })
      .orderBy('t.tag_key')
      .addOrderBy('t.tag_value')
      .getRawMany();
    const byKey = new Map<string, string[]>();
    for (const r of rows) byKey.set(r.k, [...(byKey.get(r.k) ?? []), r.v]);
    return [...byKey].map(([key, values]) => ({ key, values }));
  }

  /**
   * Locks the key's row until the transaction ends (PostgreSQL; SQLite serializes its
   * transactions already), so that concurrent tag changes count one after another and none
   * lands on a key being deleted. False if the key is gone.
   */
  async lockKey(m: EntityManager, keyId: string): Promise<boolean> {
    const q = m.getRepository(KeyEntity).createQueryBuilder('k').select('k.keyId').where('k.keyId = :keyId', { keyId });
    if (m.connection.options.type === 'postgres') q.setLock('pessimistic_write');
    return (await q.getOne()) !== null;
  }

  /** Removes `remove`, then adds or replaces `put`; the key's tag count after. */
  async change(m: EntityManager, keyId: string, put: Tag[], remove: TagRef[]): Promise<number> {
    for (const r of remove) await m.delete(KeyTagEntity, r.value === undefined ? { keyId, tagKey: r.key } : { keyId, tagKey: r.key, tagValue: r.value });
    if (put.length) await m.upsert(KeyTagEntity, put.map((t) => ({ keyId, tagKey: t.key, tagValue: t.value })), ['keyId', 'tagKey']);
    return m.countBy(KeyTagEntity, { keyId });
  }
}

import { Inject, Injectable } from '@nestjs/common';
import { DataSource, EntityManager, In } from 'typeorm';
import { KeyVersionEntity } from './key-version.entity';
import { KeyEntity } from './key.entity';
import { KeyRecord } from './key-record';

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

  async insert(m: EntityManager, key: KeyEntity, version: KeyVersionEntity | null): Promise<void> {
    await m.insert(KeyEntity, key);
    if (version) await m.insert(KeyVersionEntity, version);
  }

  async updateState(m: EntityManager, keyId: string, keyState: string, updatedAt: number): Promise<void> {
    await m.update(KeyEntity, { keyId }, { keyState, updatedAt });
  }

  /** One page of an account's keys in a region, oldest first, and the total. */
  async page(uin: string, region: string, states: string[], offset: number, limit: number): Promise<{ rows: KeyEntity[]; total: number }> {
    const [rows, total] = await this.ds.getRepository(KeyEntity).findAndCount({
      where: { uin, region, keyState: In(states) },
      order: { createdAt: 'ASC', keyId: 'ASC' },
      skip: offset,
      take: limit,
    });
    return { rows, total };
  }

  transaction<T>(fn: (m: EntityManager) => Promise<T>): Promise<T> {
    return this.ds.transaction(fn);
  }
}

import { INestApplicationContext } from '@nestjs/common';
import * as path from 'node:path';
import { DataSource, EntityManager } from 'typeorm';
import { withFileLock } from '../common/file-lock';
import { KMS_CONFIG, KmsConfig } from '../config/config';
import { KeyVersionEntity } from '../keys/key-version.entity';
import { KeyEntity } from '../keys/key.entity';
import { ChangeFeed } from '../persistence/change-feed';

/** One CMK version as the storage jobs see it. */
export interface StoredVersion {
  id: string;
  keyId: string;
  version: number;
  region: string;
  /** The wrapped material (base64), or null for token-resident material. */
  wrapped: string | null;
}

/** A new value for one version's `wrapped`, written only if the row still holds `from`. */
export interface WrappedChange {
  row: StoredVersion;
  to: string | null;
}

/**
 * Changes to make known to every process before the material they replace goes: the change
 * feed reaches them within about 250 ms, and a process re-reads its list of KEKs every second.
 */
export const SETTLE_MS = 2_000;

/** The lock file (in KMS_DATA_DIR) under which KEKs are made: set-up and the storage jobs. */
export const KEK_SETUP_LOCK = 'kek-setup.lock';

/**
 * Runs a storage job (`kms kek rotate`, `kms token migrate`) alone among the processes sharing
 * KMS_DATA_DIR, and hands it `kekSetup`, which runs the making of KEKs under the lock that
 * `kms serve` and `kms migrate` take for theirs.
 */
export function withStorageJobLock<T>(ctx: INestApplicationContext, job: (kekSetup: <K>(fn: () => Promise<K>) => Promise<K>) => Promise<T>): Promise<T> {
  const dir = ctx.get<KmsConfig>(KMS_CONFIG).dataDir;
  return withFileLock(path.join(dir, 'storage-job.lock'), () => job((fn) => withFileLock(path.join(dir, KEK_SETUP_LOCK), fn)));
}

/**
 * Walks every CMK version with wrapped material (`wrapped` true) or without, in id order
 * (keyset paging: a run cut short starts over cheaply, as rows already done no longer
 * match or need nothing), `batch` rows at a time: `plan` decides each row's change, and the
 * changes of one batch are written in one transaction, each conditional on the row being as
 * read, with a change event for each key so that every process reloads it. Returns the
 * changes written; `lost` gets those a concurrent writer overtook.
 */
export async function eachVersionBatch(
  ds: DataSource,
  feed: ChangeFeed,
  wrapped: boolean,
  batch: number,
  plan: (row: StoredVersion) => Promise<string | null | undefined>,
  lost: (change: WrappedChange) => Promise<void>,
): Promise<WrappedChange[]> {
  const written: WrappedChange[] = [];
  for (let after = ''; ; ) {
    const rows: StoredVersion[] = await ds
      .getRepository(KeyVersionEntity)
      .createQueryBuilder('v')
      .innerJoin(KeyEntity, 'k', 'k.keyId = v.keyId')
      .select(['v.id AS "id"', 'v.keyId AS "keyId"', 'v.version AS "version"', 'v.wrapped AS "wrapped"', 'k.region AS "region"'])
      .where('v.id > :after', { after })
      .andWhere(wrapped ? 'v.wrapped IS NOT NULL' : 'v.wrapped IS NULL')
      .orderBy('v.id')
      .limit(batch)
      .getRawMany();
    if (rows.length === 0) return written;
    after = rows[rows.length - 1].id;
    const changes: WrappedChange[] = [];
    for (const row of rows) {
      const to = await plan(row);
      if (to !== undefined) changes.push({ row, to });
    }
    const missed = await ds.transaction(async (m) => {
      const out: WrappedChange[] = [];
      for (const c of changes) {
        if (await writeIfUnchanged(m, c)) {
          written.push(c);
          await feed.publish(m, 'key', c.row.keyId);
        } else out.push(c);
      }
      return out;
    });
    for (const c of missed) await lost(c);
  }
}

async function writeIfUnchanged(m: EntityManager, c: WrappedChange): Promise<boolean> {
  const q = m.createQueryBuilder().update(KeyVersionEntity).set({ wrapped: c.to }).where('id = :id', { id: c.row.id });
  const r = await (c.row.wrapped === null ? q.andWhere('wrapped IS NULL') : q.andWhere('wrapped = :from', { from: c.row.wrapped })).execute();
  return (r.affected ?? 0) > 0;
}

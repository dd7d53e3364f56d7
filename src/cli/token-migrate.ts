import { INestApplicationContext } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { KMS_CONFIG, KmsConfig } from '../config/config';
import { KeyStore } from '../hsm/key-store';
import { WrappedMaterial } from '../hsm/wrapped-material';
import { SETTLE_MS, eachVersionBatch, withStorageJobLock } from '../key-storage/version-batches';
import { Log } from '../common/logger';
import { ChangeFeed } from '../persistence/change-feed';
import { KeyVersionEntity } from '../keys/key-version.entity';

const BATCH = 200;

export interface StorageMigration {
  To: 'token' | 'wrapped';
  Moved: number;
  /** Token-resident versions the token will not let out (made never extractable, in token mode): they stay, and keep working. */
  Kept: number;
}

/**
 * `kms token migrate --to token|wrapped`: moves existing CMK versions between the storage
 * modes, one transaction per batch. To the token: each blob becomes a token object (made
 * first; dropped again if the row changed meanwhile). To wrapped storage: each token object
 * that only trusted keys may wrap (material that came from wrapped storage) is wrapped by its
 * region's KEK, and once every process has seen its blob, every token object whose row is
 * wrapped is destroyed (those a run cut short left too); material made in token mode is never
 * extractable and stays in the token. Run again, it picks up what is left. One storage job at
 * a time (see withStorageJobLock).
 */
export function migrateStorage(ctx: INestApplicationContext, to: 'token' | 'wrapped'): Promise<StorageMigration> {
  return withStorageJobLock(ctx, async (kekSetup) => {
    const store = ctx.get<KeyStore>(KeyStore);
    const wrapped = ctx.get(WrappedMaterial);
    const ds = ctx.get(DataSource);
    const feed = ctx.get(ChangeFeed);
    if (to === 'token') {
      const moved = await eachVersionBatch(
        ds,
        feed,
        true,
        BATCH,
        async (row) => {
          await wrapped.toToken({ id: row.id, wrapped: Buffer.from(row.wrapped!, 'base64') }, `cmk ${row.keyId} v${row.version}`);
          return null;
        },
        (lost) => store.destroy({ id: lost.row.id }),
      );
      return { To: to, Moved: moved.length, Kept: 0 };
    }
    await kekSetup(() => wrapped.ensureKeks(ctx.get<KmsConfig>(KMS_CONFIG).regions.map((r) => r.name)));
    let kept = 0;
    const moved = await eachVersionBatch(
      ds,
      feed,
      false,
      BATCH,
      async (row) => {
        const blob = await wrapped.fromToken({ id: row.id }, row.region);
        if (blob === null) kept++;
        return blob?.toString('base64');
      },
      async () => undefined,
    );
    if (moved.length > 0) {
      Log.info('storage migration: material wrapped; letting every process see it before the token objects go', { moved: moved.length });
      await new Promise((r) => setTimeout(r, SETTLE_MS));
    }
    await sweepWrappedTokenObjects(ds, store, await wrapped.tokenObjectIds());
    return { To: to, Moved: moved.length, Kept: kept };
  });
}

/** Destroys each token object among `ids` whose CMK version row holds wrapped material. */
async function sweepWrappedTokenObjects(ds: DataSource, store: KeyStore, ids: string[]): Promise<void> {
  for (let i = 0; i < ids.length; i += BATCH) {
    const rows: Array<{ id: string; wrapped: string }> = await ds
      .getRepository(KeyVersionEntity)
      .createQueryBuilder('v')
      .select(['v.id AS "id"', 'v.wrapped AS "wrapped"'])
      .where('v.id IN (:...ids)', { ids: ids.slice(i, i + BATCH) })
      .andWhere('v.wrapped IS NOT NULL')
      .getRawMany();
    for (const r of rows) await store.destroy({ id: r.id, wrapped: Buffer.from(r.wrapped, 'base64') });
  }
}

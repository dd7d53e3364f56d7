import { INestApplicationContext } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { WrappedMaterial } from '../hsm/wrapped-material';
import { SETTLE_MS, eachVersionBatch, withStorageJobLock } from '../key-storage/version-batches';
import { Log } from '../common/logger';
import { ChangeFeed } from '../persistence/change-feed';

const BATCH = 500;

export interface KekRotation {
  Region: string;
  ActiveKek: string;
  /** Older generations still in the token (they open database backups made before the rotation) until `--retire`. */
  KeptKeks: string[];
  RetiredKeks: string[];
  Rewrapped: number;
}

/**
 * `kms kek rotate --region R [--retire]`: a new KEK generation for the region (made by the SO),
 * every blob of the region wrapped again under it, one transaction per batch. The old KEK stays
 * (backups of the database made before still open) until `--retire`: then, once every process
 * has had time to see the new KEK and the new blobs, a last pass for stragglers and the old KEK
 * destroyed. With two generations in the token the command makes no third: it resumes, so a
 * run cut short is run again, and a rotation ends with `--retire`. One such job at a time
 * (a lock file in KMS_DATA_DIR, kept by `kms token migrate` too).
 */
export async function rotateKek(ctx: INestApplicationContext, region: string, retire: boolean): Promise<KekRotation> {
  return withStorageJobLock(ctx, async (kekSetup) => {
    const wrapped = ctx.get(WrappedMaterial);
    const keks = await kekSetup(() => wrapped.rotate(region));
    const active = keks.find((k) => k.active)!;
    const pass = () =>
      eachVersionBatch(ctx.get(DataSource), ctx.get(ChangeFeed), true, BATCH, async (row) => (await wrapped.rewrap(Buffer.from(row.wrapped!, 'base64'), region))?.toString('base64'), async () => undefined);
    let rewrapped = (await pass()).length;
    const old = keks.filter((k) => !k.active).map((k) => k.id);
    if (!retire) return { Region: region, ActiveKek: active.id, KeptKeks: old, RetiredKeks: [], Rewrapped: rewrapped };
    Log.info('kek rotation: material rewrapped; letting every process see it', { region, kek: active.id, rewrapped });
    await new Promise((r) => setTimeout(r, SETTLE_MS));
    rewrapped += (await pass()).length;
    const retired = await wrapped.retire(region);
    return { Region: region, ActiveKek: active.id, KeptKeks: [], RetiredKeks: retired, Rewrapped: rewrapped };
  });
}

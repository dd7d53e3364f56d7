import { INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { AppModule } from './app.module';
import { FACES } from './api/faces';
import { SecretSealer } from './accounts/secret-sealer';
import { AuditSealer } from './audit/audit-sealer';
import { KmsConfig } from './config/config';
import { openDatabase } from './persistence/data-source';
import { resolveHsm } from './hsm/hsm-setup';
import { loadTsmLicenses } from './config/tsm-licenses';
import * as path from 'node:path';
import { withFileLock } from './common/file-lock';
import { nestLog } from './common/logger';
import { WrappedMaterial } from './hsm/wrapped-material';
import { KEK_SETUP_LOCK } from './key-storage/version-batches';

/**
 * One-time work before any worker starts: the embedded token, migrations, the sealing and
 * audit keys, and in wrapped storage each region's key-encryption key (under a lock, so that
 * instances sharing the data folder and its token do not make one each).
 */
export async function prepare(cfg: KmsConfig): Promise<void> {
  await prepareSchema(cfg);
  const ctx = await NestFactory.createApplicationContext(AppModule.forRoot(cfg, false), { logger: nestLog });
  try {
    await ensureServiceKeys(ctx, cfg);
  } finally {
    await ctx.close();
  }
}

/** What must hold before a core context opens: valid configuration files, the token, the schema. */
export async function prepareSchema(cfg: KmsConfig): Promise<void> {
  // Configuration files are checked here, so that a mistake stops the primary before it forks.
  loadTsmLicenses();
  resolveHsm(cfg);
  const ds = await openDatabase(cfg, true, FACES);
  await ds.destroy();
}

/**
 * The service's own keys, made in `ctx` if missing. A CLI command does this in the context it
 * runs in: a second context per command cost each `kms` call 2-10 % of its CPU.
 */
export async function ensureServiceKeys(ctx: INestApplicationContext, cfg: KmsConfig): Promise<void> {
  await ctx.get(SecretSealer).ensureKey();
  await ctx.get(AuditSealer).ensureKey();
  if (cfg.keyStorage === 'wrapped') {
    const regions = cfg.regions.map((r) => r.name);
    await withFileLock(path.join(cfg.dataDir, KEK_SETUP_LOCK), () => ctx.get(WrappedMaterial).ensureKeks(regions));
  }
}

import { NestFactory } from '@nestjs/core';
import { AppModule } from './app.module';
import { FACES } from './api/faces';
import { SecretSealer } from './accounts/secret-sealer';
import { AuditSealer } from './audit/audit-sealer';
import { KmsConfig } from './config/config';
import { openDatabase } from './persistence/data-source';
import { resolveHsm } from './hsm/hsm-setup';
import { loadTsmLicenses } from './config/tsm-licenses';

/** One-time work before any worker starts: the embedded token, migrations, the sealing and audit keys. */
export async function prepare(cfg: KmsConfig): Promise<void> {
  // Configuration files are checked here, so that a mistake stops the primary before it forks.
  loadTsmLicenses();
  resolveHsm(cfg);
  const ds = await openDatabase(cfg, true, FACES);
  await ds.destroy();
  const ctx = await NestFactory.createApplicationContext(AppModule.forRoot(cfg, false), { logger: ['error', 'warn'] });
  try {
    await ctx.get(SecretSealer).ensureKey();
    await ctx.get(AuditSealer).ensureKey();
  } finally {
    await ctx.close();
  }
}

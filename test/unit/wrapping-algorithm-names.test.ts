import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DataSource } from 'typeorm';
import { MIGRATIONS, dataSourceOptions } from '../../src/persistence/data-source';
import { WrappingAlgorithmNames1764700000000 } from '../../src/persistence/migrations/1764700000000-wrapping-algorithm-names';
import { PG_BASE, freshDatabase } from '../support/postgres';

/** Import parameters pending at an upgrade keep working: their wrapping algorithm is renamed to the core's name, and back on a downgrade. */

const BEFORE = MIGRATIONS.filter((m) => m !== WrappingAlgorithmNames1764700000000);

async function withDatabase(fn: (cfg: { databaseUrl?: string; dataDir: string }) => Promise<void>): Promise<void> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'kms-migration-'));
  const pg = PG_BASE ? await freshDatabase(PG_BASE) : null;
  try {
    await fn({ databaseUrl: pg?.url, dataDir });
  } finally {
    await pg?.drop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

async function open(cfg: { databaseUrl?: string; dataDir: string }, migrations: DataSource['options']['migrations']): Promise<DataSource> {
  const ds = new DataSource({ ...dataSourceOptions(cfg, []), migrations });
  return ds.initialize();
}

const algorithms = async (ds: DataSource): Promise<string[]> =>
  ((await ds.query('SELECT wrapping_algorithm FROM import_parameters ORDER BY key_id')) as Array<{ wrapping_algorithm: string }>).map((r) => r.wrapping_algorithm);

it(`renames stored wrapping algorithms to the core's names and back (${PG_BASE ? 'PostgreSQL' : 'SQLite'})`, async () => {
  await withDatabase(async (cfg) => {
    const old = await open(cfg, BEFORE);
    await old.runMigrations({ transaction: 'each' });
    const p = old.options.type === 'postgres' ? (i: number) => `$${i}` : () => '?';
    for (const [i, name] of ['RSAES_PKCS1_V1_5', 'RSAES_OAEP_SHA_1', 'RSAES_OAEP_SHA_256'].entries()) {
      await old.query(
        `INSERT INTO import_parameters (key_id, token_hash, wrapping_algorithm, wrapping_key_spec, wrapping_key_id, public_key, created_at, expires_at) VALUES (${p(1)}, 'h', ${p(2)}, 'RSA_2048', 'w', 'pk', 0, 0)`,
        [`k${i}`, name],
      );
    }
    await old.destroy();

    const ds = await open(cfg, MIGRATIONS);
    try {
      expect(await ds.runMigrations({ transaction: 'each' })).toHaveLength(1);
      expect(await algorithms(ds)).toEqual(['rsa-pkcs1-v1_5', 'rsa-oaep-sha1', 'rsa-oaep-sha256']);
      await ds.undoLastMigration({ transaction: 'each' });
      expect(await algorithms(ds)).toEqual(['RSAES_PKCS1_V1_5', 'RSAES_OAEP_SHA_1', 'RSAES_OAEP_SHA_256']);
    } finally {
      await ds.destroy();
    }
  });
});

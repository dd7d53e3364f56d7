import * as fs from 'node:fs';
import * as path from 'node:path';
import { DataSource, DataSourceOptions, MigrationExecutor } from 'typeorm';
import { AccountEntity } from '../accounts/account.entity';
import { CredentialEntity } from '../accounts/credential.entity';
import { DEFAULT_DATABASE_POOL, KmsConfig } from '../config/config';
import type { Face } from '../faces/face';
import { KeyVersionEntity } from '../keys/key-version.entity';
import { KeyEntity } from '../keys/key.entity';
import { ChangeEventEntity } from './change-event.entity';
import { Initial1763900000000 } from './migrations/1763900000000-initial';
import { UsersTagsBindingsLeases1763900000001 } from './migrations/1763900000001-users-tags-bindings-leases';
import { ImportParameters1763900000002 } from './migrations/1763900000002-import-parameters';
import { CredentialLifecycle1764500000000 } from './migrations/1764500000000-credential-lifecycle';
import { ImportAttempts1764500002000 } from './migrations/1764500002000-import-attempts';
import { AuditTrail1764600000000 } from './migrations/1764600000000-audit-trail';
import { WrappingAlgorithmNames1764700000000 } from './migrations/1764700000000-wrapping-algorithm-names';
import { AccessTokens1764800000000 } from './migrations/1764800000000-access-tokens';
import { DefaultKeys1764800001000 } from './migrations/1764800001000-default-keys';
import { PublicKeys1764900000000 } from './migrations/1764900000000-public-keys';
import { KeySpecs1764900001000 } from './migrations/1764900001000-key-specs';
import { NeutralKeyKinds1765000000000 } from './migrations/1765000000000-neutral-key-kinds';
import { PendingMaterials1765200000000 } from './migrations/1765200000000-pending-materials';
import { AuditRecordEntity } from '../audit/audit-record.entity';
import { AuditChainEntity } from '../audit/audit-chain.entity';
import { ImportParametersEntity } from '../import/import-parameters.entity';
import { UserEntity } from '../accounts/user.entity';
import { KeyTagEntity } from '../keys/key-tag.entity';
import { KeyBindingEntity } from '../keys/key-binding.entity';
import { JobLeaseEntity } from '../jobs/job-lease.entity';
import { PendingMaterialEntity } from '../keys/pending-material.entity';
import { withFileLock } from '../common/file-lock';
import { SQLITE_LOCK_WAIT_MS, installTransactionHooks } from './transactions';

const ENTITIES = [AccountEntity, CredentialEntity, UserEntity, KeyEntity, KeyVersionEntity, KeyTagEntity, KeyBindingEntity, ChangeEventEntity, JobLeaseEntity, ImportParametersEntity, AuditRecordEntity, AuditChainEntity, PendingMaterialEntity];
/** The core's migrations. The initial one also creates a face's table (v1 nonces): it ran before faces had migrations of their own, and keeps its name so that existing databases upgrade. */
export const MIGRATIONS = [Initial1763900000000, UsersTagsBindingsLeases1763900000001, ImportParameters1763900000002, CredentialLifecycle1764500000000, ImportAttempts1764500002000, AuditTrail1764600000000, WrappingAlgorithmNames1764700000000, AccessTokens1764800000000, DefaultKeys1764800001000, PublicKeys1764900000000, KeySpecs1764900001000, NeutralKeyKinds1765000000000, PendingMaterials1765200000000];

/** The faces' schema parts (taken as an argument: the face modules import this module's users). */
type FaceSchema = Pick<Face, 'entities' | 'migrations'>;

/** Where the database is; the pool size (KMS_DATABASE_POOL) only where a caller sets it. */
type DatabaseConfig = Pick<KmsConfig, 'databaseUrl' | 'dataDir'> & Partial<Pick<KmsConfig, 'databasePool'>>;

/**
 * PostgreSQL when KMS_DATABASE_URL is set, else SQLite (WAL, shared by every worker) in the data
 * folder; the core's tables and the registered faces'.
 */
export function dataSourceOptions(cfg: DatabaseConfig, faces: readonly FaceSchema[]): DataSourceOptions {
  const entities = [...ENTITIES, ...faces.flatMap((f) => f.entities ?? [])];
  const migrations = [...MIGRATIONS, ...faces.flatMap((f) => f.migrations ?? [])];
  const common = { entities, migrations, synchronize: false, migrationsRun: false, logging: false } as const;
  if (cfg.databaseUrl) {
    if (!/^postgres(ql)?:\/\//.test(cfg.databaseUrl)) throw new Error('KMS_DATABASE_URL must be a postgres:// URL');
    // A server that does not answer fails a request in 3 s rather than holding it (a stopped one fails at once).
    return { type: 'postgres', url: cfg.databaseUrl, extra: { max: cfg.databasePool ?? DEFAULT_DATABASE_POOL, connectionTimeoutMillis: 3000, onConnect: keepClientErrorsHandled }, ...common };
  }
  fs.mkdirSync(cfg.dataDir, { recursive: true, mode: 0o700 });
  return {
    type: 'better-sqlite3',
    database: path.join(cfg.dataDir, 'kms.sqlite'),
    enableWAL: true,
    prepareDatabase: (db: { pragma(s: string): unknown }) => {
      db.pragma(`busy_timeout = ${SQLITE_LOCK_WAIT_MS}`);
      db.pragma('synchronous = NORMAL');
    },
    ...common,
  };
}

/**
 * A connection's errors never reach the process as an unhandled 'error' event, which would kill
 * it. pg-pool listens while a connection is idle and leaves it to the holder while lent, and
 * TypeORM's query runner starts listening a few promise steps after it gets one: a new
 * connection whose first answer and a server's "terminating connection" (a fast shutdown)
 * arrive in one read is lent and errs in one go, between the two, which killed workers on a
 * loaded machine. Nothing is lost by ignoring the event here: the client is marked broken,
 * the pool discards it when it comes back, and the holder's next query fails, with the error
 * every caller already handles.
 */
function keepClientErrorsHandled(client: { on(event: 'error', listener: () => void): unknown }): void {
  client.on('error', () => undefined);
}

/** Arbitrary constant naming the PostgreSQL advisory lock that serializes migrations. */
const MIGRATION_LOCK = 7_262_019;

/** `faces`: the registered faces (none: the core's tables alone, for tests of the core). */
export async function openDatabase(cfg: DatabaseConfig, migrate: boolean, faces: readonly FaceSchema[] = []): Promise<DataSource> {
  const ds = new DataSource(dataSourceOptions(cfg, faces));
  await ds.initialize();
  installTransactionHooks(ds);
  if (migrate) {
    // Instances and CLI runs may start together: only one migrates at a time.
    if (ds.options.type === 'postgres') {
      const qr = ds.createQueryRunner();
      await qr.connect();
      try {
        await qr.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
        // On the connection that holds the lock: a second one may not be free (KMS_DATABASE_POOL=1).
        const migrations = new MigrationExecutor(ds, qr);
        migrations.transaction = 'each';
        await migrations.executePendingMigrations();
      } finally {
        await qr.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]).catch(() => undefined);
        await qr.release();
      }
    } else {
      await withFileLock(path.join(cfg.dataDir, 'migrate.lock'), () => ds.runMigrations({ transaction: 'each' }));
    }
  }
  return ds;
}

import { execSync } from 'node:child_process';
import * as crypto from 'node:crypto';
import { Client } from 'pg';

/** Base URL of the PostgreSQL server tests use, or undefined to test on SQLite. */
export const PG_BASE = process.env.KMS_TEST_DATABASE_URL;

/** Whether a server answers at `url`. */
export async function reachable(url: string): Promise<boolean> {
  const c = new Client({ connectionString: url, connectionTimeoutMillis: 2000 });
  try {
    await c.connect();
    return true;
  } catch {
    return false;
  } finally {
    await c.end().catch(() => undefined);
  }
}

/** Starts the machine's PostgreSQL if it is down, or says clearly why it cannot. */
export async function ensurePostgres(url: string): Promise<void> {
  if (await reachable(url)) return;
  try {
    execSync('pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start', { stdio: 'ignore', shell: '/bin/sh' });
  } catch {
    /* reported below */
  }
  for (let i = 0; i < 20; i++) {
    if (await reachable(url)) return;
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`PostgreSQL at ${url} is down and could not be started (tried pg_ctlcluster); start it, or unset KMS_TEST_DATABASE_URL to test on SQLite`);
}

/** A fresh database on the test server; returns its URL and a function that drops it. */
export async function freshDatabase(base: string): Promise<{ url: string; drop: () => Promise<void> }> {
  await ensurePostgres(base);
  const name = `kms_test_${crypto.randomBytes(6).toString('hex')}`;
  const admin = new Client({ connectionString: base });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  // Commits return before their WAL reaches the disk: the tests kill services, never the
  // server, so nothing is lost, and a loaded CI machine's fsync stalls (which could hold the
  // audit trail's writes past `required` mode's 5 s) stay out of the tests' way.
  await admin.query(`ALTER DATABASE ${name} SET synchronous_commit = off`);
  await admin.end();
  const u = new URL(base);
  u.pathname = `/${name}`;
  return {
    url: u.toString(),
    drop: async () => {
      const c = new Client({ connectionString: base });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}

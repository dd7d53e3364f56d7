import { execFile } from 'node:child_process';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { freshDatabase } from './support/postgres';

const PG = process.env.KMS_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const PROBE = path.join(__dirname, 'support', 'dropped-connections-probe.js');

/**
 * A connection the server ends right after it is ready (here its idle_session_timeout; in
 * production a fast shutdown while the pool opens connections) must not kill the process.
 * pg-pool lends a new connection in the same read that brings its "ready", TypeORM listens
 * for its errors only a few promise steps later, and a FATAL in that read went unheard: an
 * unhandled 'error' event, and a worker gone (test/database-outage.e2e.test.ts saw it on a
 * loaded machine; before the fix this probe died in its first rounds, every run). The queries
 * that meet such a connection fail with the database-unavailable class, which every face
 * answers with its retry-later code.
 */
it('survives connections the server ends as they are lent, and counts their errors as the database being unavailable', async () => {
  const db = await freshDatabase(PG);
  try {
    const { stdout } = await promisify(execFile)(process.execPath, [PROBE, db.url, '30'], { timeout: 60_000 });
    const outcome = JSON.parse(stdout) as { ok: number; unavailable: number; other: string[] };
    expect(outcome.other).toEqual([]);
    expect(outcome.unavailable).toBeGreaterThan(0);
  } finally {
    await db.drop();
  }
});

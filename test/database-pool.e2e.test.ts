import { Client } from 'pg';
import { KmsService } from './support/kms-service';
import { codeOf, kmsClient } from './support/tencent-client';

/**
 * KMS_DATABASE_POOL bounds the PostgreSQL connections of every process of an instance: with
 * several workers and instances the default (10 a process) can pass the server's
 * max_connections (100 by default), and the operator sizes it. PostgreSQL only.
 */
const onPostgres = process.env.KMS_TEST_DATABASE_URL ? it : it.skip;

onPostgres('opens at most KMS_DATABASE_POOL connections a process, and serves a burst through them', async () => {
  const workers = 2;
  const pool = 2;
  const kms = await KmsService.start({ workers, env: { KMS_DATABASE_POOL: String(pool), KMS_RATE_LIMITS: 'off' } });
  const db = new Client({ connectionString: kms.env.KMS_DATABASE_URL });
  await db.connect();
  try {
    const cred = await kms.createAccount('pooled');
    const c = kmsClient(kms.endpoint, cred);
    const count = async () => Number((await db.query('SELECT count(*) AS n FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()')).rows[0].n);
    let peak = 0;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        peak = Math.max(peak, await count());
        await new Promise((r) => setTimeout(r, 10));
      }
    })();
    // Writes and reads at once, many more than the pool: they queue for its connections.
    const codes = await Promise.all(Array.from({ length: 120 }, (_, i) => codeOf(i % 3 ? c.ListKeys({ Offset: i }) : c.CreateKey({ Alias: `pooled-${i}` }))));
    sampling = false;
    await sampler;
    expect(codes.filter((x) => x !== 'OK')).toEqual([]);
    // The primary and each worker; the CLI that created the account has exited.
    expect(peak).toBeGreaterThan(0);
    expect(peak).toBeLessThanOrEqual((workers + 1) * pool);
  } finally {
    await db.end();
    await kms.stop();
  }
});

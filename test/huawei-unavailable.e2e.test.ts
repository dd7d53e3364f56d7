import { Client } from 'pg';
import { HuaweiClient, codeOf } from './support/huawei-client';
import { KmsService } from './support/kms-service';

/**
 * 500 KMS.0102: the service cannot work for now (here the audit store, which KMS_AUDIT=required
 * needs, is locked) and says so, then serves again by itself. PostgreSQL only, as in
 * audit-failure.e2e.test.ts: on SQLite a locked database stalls the process instead.
 */
const onPostgres = process.env.KMS_TEST_DATABASE_URL ? it : it.skip;

onPostgres('answers 500 KMS.0102 while the audit store is locked, and recovers', async () => {
  const kms = await KmsService.start({ env: { KMS_RATE_LIMITS: 'off' } });
  try {
    const hw = HuaweiClient.of(kms.endpoint, await kms.createAccount('hw-unavailable'));
    const lock = new Client({ connectionString: kms.env.KMS_DATABASE_URL });
    await lock.connect();
    await lock.query('BEGIN');
    await lock.query('LOCK TABLE audit_records IN ACCESS EXCLUSIVE MODE');
    const codes: string[] = [];
    try {
      const until = Date.now() + 9000;
      while (Date.now() < until && !codes.includes('500 KMS.0102')) {
        codes.push(await codeOf(hw.post('gen-random', { random_data_length: '64' })));
        await new Promise((r) => setTimeout(r, 200));
      }
    } finally {
      await lock.query('COMMIT');
      await lock.end();
    }
    expect(codes).toContain('500 KMS.0102');
    expect(codes.every((c) => c === 'OK' || c === '500 KMS.0102')).toBe(true);
    let code = '';
    for (const until = Date.now() + 10_000; Date.now() < until && (code = await codeOf(hw.post('gen-random', { random_data_length: '64' }))) !== 'OK'; ) await new Promise((r) => setTimeout(r, 200));
    expect(code).toBe('OK');
  } finally {
    await kms.stop();
  }
});

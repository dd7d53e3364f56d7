import { Client } from 'pg';
import * as crypto from 'node:crypto';
import { HuksRaw } from './support/huks-raw';
import { KmsService } from './support/kms-service';

/**
 * 12000015 (503, Unavailable): the service cannot work for now (the audit store, which
 * KMS_AUDIT=required needs, is locked) and says so, then serves again. PostgreSQL only, as in
 * huawei-unavailable.e2e.test.ts: on SQLite a locked database stalls the process instead.
 */
const onPostgres = process.env.KMS_TEST_DATABASE_URL ? it : it.skip;

onPostgres('answers 12000015 while the audit store is locked, and recovers', async () => {
  const kms = await KmsService.start({ env: { KMS_RATE_LIMITS: 'off' } });
  try {
    const huks = new HuksRaw(kms.endpoint, await kms.createAccount('huks-unavailable'));
    const has = async () => {
      const r = await huks.call('hasKeyItem', { keyAlias: 'x', options: {}, nonce: crypto.randomUUID() });
      return r.status === 200 ? 'OK' : `${r.status} ${r.body.error.code} ${r.body.error.reason}`;
    };
    const lock = new Client({ connectionString: kms.env.KMS_DATABASE_URL });
    await lock.connect();
    await lock.query('BEGIN');
    await lock.query('LOCK TABLE audit_records IN ACCESS EXCLUSIVE MODE');
    const answers: string[] = [];
    try {
      const until = Date.now() + 9000;
      while (Date.now() < until && !answers.includes('503 12000015 Unavailable')) {
        answers.push(await has());
        await new Promise((r) => setTimeout(r, 200));
      }
    } finally {
      await lock.query('COMMIT');
      await lock.end();
    }
    expect(answers).toContain('503 12000015 Unavailable');
    expect(answers.every((c) => c === 'OK' || c === '503 12000015 Unavailable')).toBe(true);
    let answer = '';
    for (const until = Date.now() + 10_000; Date.now() < until && (answer = await has()) !== 'OK'; ) await new Promise((r) => setTimeout(r, 200));
    expect(answer).toBe('OK');
  } finally {
    await kms.stop();
  }
});

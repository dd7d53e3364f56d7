import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { auditList, sql, waitForRecords } from './support/audit-db';
import { KmsService, kmsCli } from './support/kms-service';
import { b64, kmsClient } from './support/tencent-client';
import { setTestClock } from './support/test-clock';

/**
 * Retention: records older than KMS_AUDIT_RETENTION_DAYS are removed by a leased job, and
 * each chain restarts at a checkpoint sealed in the token, so what remains still verifies
 * (and tampering with it is still seen). Time is moved with the test clock.
 */

let kms: KmsService;
let clockFile: string;
const DAY = 86_400;

beforeAll(async () => {
  clockFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'kms-audit-retention-')), 'offset');
  fs.writeFileSync(clockFile, '0');
  kms = await KmsService.start({ env: { KMS_TEST_CLOCK_FILE: clockFile, KMS_JOB_INTERVAL_MS: '200', KMS_AUDIT_RETENTION_DAYS: '30', KMS_RATE_LIMITS: 'off' } });
});
afterAll(async () => kms.stop());

it('prunes records past retention and still verifies, from a sealed checkpoint', async () => {
  const cred = await kms.createAccount('audit-retention');
  const c = kmsClient(kms.endpoint, cred);
  const { KeyId } = await c.CreateKey({ Alias: 'audit-retention' });
  for (let i = 0; i < 5; i++) await c.Encrypt({ KeyId: KeyId!, Plaintext: b64(`old ${i}`) });
  const old = await waitForRecords(kms.env, (l) => l.filter((x) => x.action === 'Encrypt').length >= 5);
  const writer = old.find((l) => l.face === 'tencent')!.writer;
  expect((await kmsCli(kms.env, 'audit', 'verify')).code).toBe(0);

  // 31 days on: what was recorded until now is past the 30 days kept; what comes next is not.
  await setTestClock(clockFile, 31 * DAY);
  for (let i = 0; i < 3; i++) await c.Encrypt({ KeyId: KeyId!, Plaintext: b64(`new ${i}`) });
  const cutoff = Date.now() + DAY * 1000;
  // The three new records may reach the store after the job's own record: wait for them too.
  const lines = await waitForRecords(kms.env, (l) => l.some((x) => x.action === 'audit-retention') && l.filter((x) => x.action === 'Encrypt').length >= 3 && l.every((x) => Date.parse(x.time) >= cutoff), 15_000);
  expect(lines.every((l) => Date.parse(l.time) >= cutoff)).toBe(true);
  expect(lines.filter((l) => l.action === 'Encrypt').length).toBe(3);
  expect(lines.find((l) => l.action === 'audit-retention')).toMatchObject({ face: 'service', result: 'Success' });

  // The service's chain now starts at a checkpoint after the cut, and it all verifies.
  const [chain] = await sql<{ base_seq: string | number }>(kms.env, 'SELECT base_seq FROM audit_chains WHERE writer = $1', [writer]);
  expect(Number(chain.base_seq)).toBeGreaterThanOrEqual(6);
  const v = await kmsCli(kms.env, 'audit', 'verify');
  expect(v.stderr).toBe('');
  expect(v.code).toBe(0);
  expect(JSON.parse(v.stdout)).toMatchObject({ ok: true, records: (await auditList(kms.env)).length });

  // Records after the checkpoint are still protected: one removed is seen.
  const mine = (await auditList(kms.env)).filter((l) => l.writer === writer).sort((a, b) => a.seq - b.seq);
  await sql(kms.env, 'DELETE FROM audit_records WHERE writer = $1 AND seq = $2', [writer, mine[0].seq]);
  const broken = await kmsCli(kms.env, 'audit', 'verify');
  expect(broken.code).toBe(1);
  expect(broken.stderr).toContain(`${writer}/${mine[0].seq}`);
  // And the checkpoint cannot be moved without the token.
  await sql(kms.env, 'UPDATE audit_chains SET base_seq = $2 WHERE writer = $1', [writer, mine[0].seq]);
  expect((await kmsCli(kms.env, 'audit', 'verify')).stderr).toMatch(/start seal does not verify/);
});

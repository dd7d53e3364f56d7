import Database from 'better-sqlite3';
import * as path from 'node:path';
import { Client } from 'pg';
import { auditList, sql, waitForRecords } from './support/audit-db';
import { KmsService, kmsCli } from './support/kms-service';
import { b64, codeOf, kmsClient } from './support/tencent-client';

/**
 * When audit records cannot be written: KMS_AUDIT=required (the default) answers
 * ServiceTemporaryUnavailable once records have waited 5 s, recovers by itself, and loses
 * nothing it accepted; best-effort goes on serving; off records nothing and says so at start.
 * The database is made unwritable for real: on PostgreSQL the audit table is locked
 * (ACCESS EXCLUSIVE, in an open transaction), on SQLite the whole database (BEGIN EXCLUSIVE).
 */

const UNAVAILABLE = 'UnsupportedOperation.ServiceTemporaryUnavailable';
const services: KmsService[] = [];
afterAll(async () => {
  for (const s of services) await s.stop();
});

async function start(env: Record<string, string>): Promise<KmsService> {
  const s = await KmsService.start({ env: { KMS_RATE_LIMITS: 'off', ...env } });
  services.push(s);
  return s;
}

/** Holds a lock that keeps audit records from being written; resolves to its release. */
async function lockAudit(kms: KmsService): Promise<() => Promise<void>> {
  if (kms.env.KMS_DATABASE_URL) {
    const c = new Client({ connectionString: kms.env.KMS_DATABASE_URL });
    await c.connect();
    await c.query('BEGIN');
    await c.query('LOCK TABLE audit_records IN ACCESS EXCLUSIVE MODE');
    return async () => {
      await c.query('COMMIT');
      await c.end();
    };
  }
  const db = new Database(path.join(kms.env.KMS_DATA_DIR, 'kms.sqlite'));
  db.exec('BEGIN EXCLUSIVE');
  return async () => {
    db.exec('COMMIT');
    db.close();
  };
}

/** Encrypts every 200 ms for `ms`; the answers' codes with the time each was sent. */
async function encryptFor(kms: KmsService, cred: { SecretId: string; SecretKey: string }, keyId: string, ms: number): Promise<Array<{ t: number; code: string }>> {
  const c = kmsClient(kms.endpoint, cred);
  const t0 = Date.now();
  const out: Array<{ t: number; code: string }> = [];
  while (Date.now() - t0 < ms) {
    const t = Date.now() - t0;
    out.push({ t, code: await codeOf(c.Encrypt({ KeyId: keyId, Plaintext: b64('during the outage') })) });
    await new Promise((r) => setTimeout(r, 200));
  }
  return out;
}

it('required: refuses after 5 s without the audit store, recovers by itself, and loses no record', async () => {
  const kms = await start({});
  const cred = await kms.createAccount('audit-required');
  const c = kmsClient(kms.endpoint, cred);
  const { KeyId } = await c.CreateKey({ Alias: 'audit-required' });
  await waitForRecords(kms.env, (l) => l.some((x) => x.action === 'CreateKey'));
  const release = await lockAudit(kms);
  let answers: Array<{ t: number; code: string }>;
  try {
    answers = await encryptFor(kms, cred, KeyId!, 9000);
  } finally {
    await release();
  }
  // Served while the records could still wait, refused once they had waited 5 s: from the
  // first hung flush (within 200 ms of the lock), which a loaded machine's timers find late
  // (database-outage saw refusals start only 6 s after the stop).
  expect(answers.filter((a) => a.t < 4000).every((a) => a.code === 'OK')).toBe(true);
  const late = answers.filter((a) => a.t > 7500);
  expect(late.length).toBeGreaterThan(0);
  expect(late.every((a) => a.code === UNAVAILABLE)).toBe(true);
  expect(answers.every((a) => a.code === 'OK' || a.code === UNAVAILABLE)).toBe(true);
  // Back by itself once the records are written.
  const until = Date.now() + 10_000;
  let code = '';
  let refusedAfter = 0;
  while (Date.now() < until && (code = await codeOf(c.Encrypt({ KeyId: KeyId!, Plaintext: b64('after') }))) !== 'OK') {
    refusedAfter++;
    await new Promise((r) => setTimeout(r, 200));
  }
  expect(code).toBe('OK');
  expect(refusedAfter).toBeLessThan(10);
  // Every request answered during the outage has its record, refusals included.
  const ok = answers.filter((a) => a.code === 'OK').length;
  const refused = answers.length - ok + refusedAfter;
  const lines = await waitForRecords(kms.env, (l) => l.filter((x) => x.action === 'Encrypt').length >= answers.length + refusedAfter + 1);
  const encrypts = lines.filter((l) => l.action === 'Encrypt');
  expect(encrypts.filter((l) => l.result === UNAVAILABLE).length).toBe(refused);
  expect(encrypts.filter((l) => l.result === 'Success').length).toBeGreaterThanOrEqual(ok + 1);
  expect((await kmsCli(kms.env, 'audit', 'verify')).code).toBe(0);
  expect(kms.logs).toMatch(/audit records cannot be written; retrying \(requests are refused after 5 s\)/);
  expect(kms.logs).toMatch(/audit trail written again/);
});

it('best-effort: logs the failure, goes on serving, and writes the records once it can', async () => {
  const kms = await start({ KMS_AUDIT: 'best-effort' });
  const cred = await kms.createAccount('audit-best-effort');
  const c = kmsClient(kms.endpoint, cred);
  const { KeyId } = await c.CreateKey({ Alias: 'audit-best-effort' });
  const release = await lockAudit(kms);
  let answers: Array<{ t: number; code: string }>;
  try {
    answers = await encryptFor(kms, cred, KeyId!, 6500);
  } finally {
    await release();
  }
  expect(answers.every((a) => a.code === 'OK')).toBe(true);
  await waitForRecords(kms.env, (l) => l.filter((x) => x.action === 'Encrypt').length >= answers.length);
  expect((await auditList(kms.env, '--action', 'Encrypt')).length).toBe(answers.length);
  expect(kms.logs).toMatch(/audit records cannot be written; retrying/);
  expect((await kmsCli(kms.env, 'audit', 'verify')).code).toBe(0);
});

/**
 * Makes every INSERT into the audit table fail, until the returned function is called: a
 * trigger, so the rest of the database stays writable (a lock would make every other write
 * of the service wait too).
 */
async function refuseAuditInserts(kms: KmsService): Promise<() => Promise<void>> {
  const message = 'the audit store refuses writes (test)';
  if (kms.env.KMS_DATABASE_URL) {
    await sql(kms.env, `CREATE FUNCTION kms_test_refuse() RETURNS trigger AS $$ BEGIN RAISE EXCEPTION '${message}'; END $$ LANGUAGE plpgsql`);
    await sql(kms.env, 'CREATE TRIGGER kms_test_refuse BEFORE INSERT ON audit_records FOR EACH ROW EXECUTE FUNCTION kms_test_refuse()');
    return async () => void (await sql(kms.env, 'DROP TRIGGER kms_test_refuse ON audit_records'));
  }
  await sql(kms.env, `CREATE TRIGGER kms_test_refuse BEFORE INSERT ON audit_records BEGIN SELECT RAISE(ABORT, '${message}'); END`);
  return async () => void (await sql(kms.env, 'DROP TRIGGER kms_test_refuse'));
}

it('best-effort: a large batch that fails (on SQLite, in the writer thread) is written whole, in its order, once it can', async () => {
  const kms = await start({ KMS_AUDIT: 'best-effort' });
  const cred = await kms.createAccount('audit-burst');
  const c = kmsClient(kms.endpoint, cred);
  const { KeyId } = await c.CreateKey({ Alias: 'audit-burst' });
  await waitForRecords(kms.env, (l) => l.some((x) => x.action === 'CreateKey'));
  const allow = await refuseAuditInserts(kms);
  let codes: string[];
  try {
    // Far more than 64 records a worker in one flush: on SQLite the writer thread takes the batch.
    codes = await Promise.all(Array.from({ length: 400 }, (_, i) => codeOf(c.Encrypt({ KeyId: KeyId!, Plaintext: b64(`burst ${i}`) }))));
    await waitForLog(kms, /the audit store refuses writes \(test\)/);
  } finally {
    await allow();
  }
  expect(codes.filter((x) => x !== 'OK')).toEqual([]);
  await waitForRecords(kms.env, (l) => l.filter((x) => x.action === 'Encrypt').length >= codes.length);
  expect((await auditList(kms.env, '--action', 'Encrypt')).length).toBe(codes.length);
  expect(kms.logs).toMatch(/audit records cannot be written; retrying/);
  // Same numbers, same hashes: each chain verifies, its MACs included.
  expect((await kmsCli(kms.env, 'audit', 'verify')).code).toBe(0);
});

async function waitForLog(kms: KmsService, pattern: RegExp, ms = 10_000): Promise<void> {
  const until = Date.now() + ms;
  while (!pattern.test(kms.logs)) {
    if (Date.now() > until) throw new Error(`no log line matched ${pattern} within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

it('off: warns at start and records nothing', async () => {
  const kms = await start({ KMS_AUDIT: 'off' });
  expect(kms.logs).toMatch(/THE AUDIT TRAIL IS OFF \(KMS_AUDIT=off\)/);
  const cred = await kmsCli({ ...kms.env }, 'account', 'create', '--name', 'audit-off');
  const c = kmsClient(kms.endpoint, JSON.parse(cred.stdout));
  await c.GenerateRandom({ NumberOfBytes: 8 });
  await new Promise((r) => setTimeout(r, 600));
  expect(await sql(kms.env, 'SELECT * FROM audit_records')).toEqual([]);
  expect((await kmsCli(kms.env, 'audit', 'verify')).stdout).toMatch(/"records": 0/);
  const bad = await kmsCli({ ...kms.env, KMS_AUDIT: 'sometimes' }, 'audit', 'verify');
  expect(bad.code).toBe(2);
  expect(bad.stderr).toMatch(/KMS_AUDIT must be required, best-effort or off/);
});

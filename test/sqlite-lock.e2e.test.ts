import Database from 'better-sqlite3';
import * as path from 'node:path';
import { Credential, KmsService } from './support/kms-service';
import { b64, codeOf, kmsClient } from './support/tencent-client';

/**
 * SQLite only: another connection (a CLI run, another worker's long write, an operator's
 * sqlite3 shell) holding the write lock. A write waits for the lock without holding up the
 * process: calls served from the caches (Encrypt on a used key) are answered meanwhile; the
 * write goes through once the lock is released, or fails with the retry-later error after 5 s.
 */
const onSqlite = process.env.KMS_TEST_DATABASE_URL ? it.skip : it;
const UNAVAILABLE = 'UnsupportedOperation.ServiceTemporaryUnavailable';

let kms: KmsService;
let cred: Credential;
beforeAll(async () => {
  // One process: a write waiting on its event loop would hold up every other call.
  kms = await KmsService.start({ workers: 1, env: { KMS_RATE_LIMITS: 'off' } });
  cred = await kms.createAccount('sqlite-lock');
});
afterAll(() => kms.stop());

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Encrypts on `keyId` one after another for `ms`; the slowest answer's time and every code. */
async function encryptsFor(keyId: string, ms: number): Promise<{ slowest: number; codes: string[] }> {
  const c = kmsClient(kms.endpoint, cred);
  const codes: string[] = [];
  let slowest = 0;
  for (const until = Date.now() + ms; Date.now() < until; ) {
    const t = Date.now();
    codes.push(await codeOf(c.Encrypt({ KeyId: keyId, Plaintext: b64('while locked') })));
    slowest = Math.max(slowest, Date.now() - t);
    await sleep(50);
  }
  return { slowest, codes };
}

onSqlite('serves cached calls while a write waits for the lock, and writes once it is released', async () => {
  const c = kmsClient(kms.endpoint, cred);
  const { KeyId } = await c.CreateKey({ Alias: 'cached-under-lock' });
  await c.Encrypt({ KeyId: KeyId!, Plaintext: b64('warm') });
  const lock = new Database(path.join(kms.env.KMS_DATA_DIR, 'kms.sqlite'));
  try {
    lock.exec('BEGIN IMMEDIATE');
    const started = Date.now();
    const create = c.CreateKey({ Alias: 'made-after-the-lock' }).then(
      (r) => ({ code: 'OK', keyId: r.KeyId, ms: Date.now() - started }),
      (e: { code?: string }) => ({ code: e.code ?? String(e), keyId: undefined, ms: Date.now() - started }),
    );
    await sleep(100);
    const meanwhile = await encryptsFor(KeyId!, 2000);
    lock.exec('COMMIT');
    expect(meanwhile.codes.length).toBeGreaterThan(10);
    expect(meanwhile.codes.filter((x) => x !== 'OK')).toEqual([]);
    expect(meanwhile.slowest).toBeLessThan(500);
    const created = await create;
    expect(created.code).toBe('OK');
    expect(created.ms).toBeGreaterThanOrEqual(2000);
    expect((await c.DescribeKey({ KeyId: created.keyId! })).KeyMetadata?.Alias).toBe('made-after-the-lock');
  } finally {
    if (lock.inTransaction) lock.exec('ROLLBACK');
    lock.close();
  }
});

onSqlite('fails a write with the retry-later error after 5 s of waiting for the lock, and is writable again after', async () => {
  const c = kmsClient(kms.endpoint, cred);
  const before = (await c.ListKeys({})).TotalCount!;
  const lock = new Database(path.join(kms.env.KMS_DATA_DIR, 'kms.sqlite'));
  try {
    lock.exec('BEGIN IMMEDIATE');
    const started = Date.now();
    expect(await codeOf(c.CreateKey({ Alias: 'never-made' }))).toBe(UNAVAILABLE);
    const ms = Date.now() - started;
    expect(ms).toBeGreaterThanOrEqual(4900);
    expect(ms).toBeLessThan(6500);
    lock.exec('ROLLBACK');
  } finally {
    if (lock.inTransaction) lock.exec('ROLLBACK');
    lock.close();
  }
  // The audit trail (KMS_AUDIT=required) waited for the lock too, and after 5 s every call is
  // refused until its records are written: that follows the release within its next flush.
  const released = Date.now();
  while ((await codeOf(c.ListKeys({}))) !== 'OK') {
    expect(Date.now() - released).toBeLessThan(5000);
    await sleep(50);
  }
  expect(await codeOf(c.CreateKey({ Alias: 'made-after-all' }))).toBe('OK');
  // The refused CreateKey left nothing behind: only the later one is there.
  expect((await c.ListKeys({})).TotalCount).toBe(before + 1);
}, 30_000);

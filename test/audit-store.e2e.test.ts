import { recordHash } from '../src/audit/audit-event';
import { AuditLine, auditList, sql, waitForRecords } from './support/audit-db';
import { Credential, KmsService, kmsCli } from './support/kms-service';
import { b64, kmsClient } from './support/tencent-client';

/**
 * The audit store: records are chained per writer and sealed by a key in the token, so that
 * someone who can write the database (through SQL here) but not use the token cannot edit,
 * delete, reorder or rewrite records unseen; a chain stays verifiable across a restart.
 */

let kms: KmsService;
let cred: Credential;
let keyId: string;
let writer: string;

type Row = Record<string, unknown>;
const rowsOf = (w: string) => sql<Row>(kms.env, 'SELECT * FROM audit_records WHERE writer = $1 ORDER BY seq', [w]);
const verify = () => kmsCli(kms.env, 'audit', 'verify');
const COLUMNS = ['writer', 'seq', 'at', 'face', 'action', 'account', 'sub_user', 'secret_id', 'keys', 'request_id', 'source', 'client_cert', 'result', 'duration_ms', 'hash'];
const insertRow = (r: Row) => sql(kms.env, `INSERT INTO audit_records (${COLUMNS.map((c) => `"${c}"`).join(', ')}) VALUES (${COLUMNS.map((_, i) => `$${i + 1}`).join(', ')})`, COLUMNS.map((c) => r[c]));

async function expectIntact(): Promise<{ records: number; chains: number }> {
  const r = await verify();
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  return JSON.parse(r.stdout);
}

async function expectBrokenAt(seq: number): Promise<string> {
  const r = await verify();
  expect(r.code).toBe(1);
  expect(r.stderr).toContain(`audit trail broken at record ${writer}/${seq}:`);
  expect(JSON.parse(r.stdout)).toMatchObject({ ok: false, writer, seq });
  return r.stderr;
}

beforeAll(async () => {
  kms = await KmsService.start({ env: { KMS_RATE_LIMITS: 'off' } });
  cred = await kms.createAccount('audit-store');
  const c = kmsClient(kms.endpoint, cred);
  keyId = (await c.CreateKey({ Alias: 'audit-store' })).KeyId!;
  for (let i = 0; i < 6; i++) await c.Encrypt({ KeyId: keyId, Plaintext: b64(`store ${i}`) });
  const lines = await waitForRecords(kms.env, (l) => l.filter((x) => x.face === 'tencent').length >= 7);
  writer = lines.find((l) => l.face === 'tencent')!.writer;
  // A still database from here on: the service has written and sealed everything.
  await kms.stopProcess();
});
afterAll(async () => kms.stop());

it('verifies every chain and summarizes the trail', async () => {
  const lines = await auditList(kms.env);
  const mine = lines.filter((l) => l.writer === writer);
  expect(mine.map((l) => l.seq)).toEqual([7, 6, 5, 4, 3, 2, 1]); // newest first
  const summary = await expectIntact();
  expect(summary).toMatchObject({ ok: true, records: lines.length, chains: new Set(lines.map((l) => l.writer)).size, unsealed: 0 });
  expect(Date.parse((summary as unknown as { first: string }).first)).toBeLessThanOrEqual(Date.parse((summary as unknown as { last: string }).last));
});

it('detects an edited record', async () => {
  const [row] = await sql<Row>(kms.env, 'SELECT result FROM audit_records WHERE writer = $1 AND seq = 3', [writer]);
  await sql(kms.env, `UPDATE audit_records SET result = 'UnauthorizedOperation' WHERE writer = $1 AND seq = 3`, [writer]);
  expect(await expectBrokenAt(3)).toMatch(/does not match its hash/);
  await sql(kms.env, 'UPDATE audit_records SET result = $2 WHERE writer = $1 AND seq = 3', [writer, row.result]);
  await expectIntact();
});

it('detects a deleted record, in the middle and at the sealed end', async () => {
  for (const seq of [4, 7]) {
    const [row] = (await rowsOf(writer)).filter((r) => Number(r.seq) === seq);
    await sql(kms.env, 'DELETE FROM audit_records WHERE writer = $1 AND seq = $2', [writer, seq]);
    expect(await expectBrokenAt(seq)).toMatch(/missing/);
    await insertRow(row);
    await expectIntact();
  }
});

it('detects reordered records', async () => {
  const swap = async () => {
    await sql(kms.env, 'UPDATE audit_records SET seq = -2 WHERE writer = $1 AND seq = 2', [writer]);
    await sql(kms.env, 'UPDATE audit_records SET seq = 2 WHERE writer = $1 AND seq = 3', [writer]);
    await sql(kms.env, 'UPDATE audit_records SET seq = 3 WHERE writer = $1 AND seq = -2', [writer]);
  };
  await swap();
  await expectBrokenAt(2);
  await swap();
  await expectIntact();
});

it('detects a chain rewritten and rehashed without the token', async () => {
  const original = await rowsOf(writer);
  const [chain] = await sql<Row>(kms.env, 'SELECT * FROM audit_chains WHERE writer = $1', [writer]);
  // The attacker knows the hash algorithm: edits record 2 and recomputes every hash after it.
  let prev = String(original[0].hash);
  const rewritten = original.map((r, i) => {
    if (i === 0) return r;
    const rec = { writer, seq: Number(r.seq), at: Number(r.at), face: String(r.face), action: i === 1 ? 'GenerateRandom' : String(r.action), account: r.account as string | null, subUser: r.sub_user as string | null, secretId: r.secret_id as string | null, keys: r.keys as string | null, requestId: r.request_id as string | null, source: r.source as string | null, clientCert: r.client_cert as string | null, result: String(r.result), durationMs: Number(r.duration_ms) };
    prev = recordHash(prev, rec);
    return { ...r, action: rec.action, hash: prev };
  });
  for (const r of rewritten) await sql(kms.env, 'UPDATE audit_records SET action = $3, hash = $4 WHERE writer = $1 AND seq = $2', [writer, r.seq, r.action, r.hash]);
  expect(await expectBrokenAt(7)).toMatch(/sealed head/);
  // Moving the head to the new hash too: the head's MAC no longer verifies.
  await sql(kms.env, 'UPDATE audit_chains SET head_hash = $2 WHERE writer = $1', [writer, prev]);
  expect(await expectBrokenAt(7)).toMatch(/head seal does not verify/);
  // A whole chain removed but its seal: the sealed records are missing.
  await sql(kms.env, 'UPDATE audit_chains SET head_hash = $2 WHERE writer = $1', [writer, chain.head_hash]);
  for (const r of original) await sql(kms.env, 'UPDATE audit_records SET action = $3, hash = $4 WHERE writer = $1 AND seq = $2', [writer, r.seq, r.action, r.hash]);
  await expectIntact();
  await sql(kms.env, 'DELETE FROM audit_records WHERE writer = $1', [writer]);
  await expectBrokenAt(1);
  for (const r of original) await insertRow(r);
  // And records without their chain's seals.
  await sql(kms.env, 'DELETE FROM audit_chains WHERE writer = $1', [writer]);
  expect(await expectBrokenAt(1)).toMatch(/no known chain/);
  await sql(kms.env, `INSERT INTO audit_chains (${Object.keys(chain).map((c) => `"${c}"`).join(', ')}) VALUES (${Object.keys(chain).map((_, i) => `$${i + 1}`).join(', ')})`, Object.values(chain));
  await expectIntact();
});

it('keeps every chain verifiable across a restart, each process with a chain of its own', async () => {
  await kms.launch();
  const c = kmsClient(kms.endpoint, cred);
  for (let i = 0; i < 3; i++) await c.Decrypt({ CiphertextBlob: (await c.Encrypt({ KeyId: keyId, Plaintext: b64(`after ${i}`) })).CiphertextBlob! });
  const lines = await waitForRecords(kms.env, (l) => l.filter((x) => x.face === 'tencent' && x.writer !== writer).length >= 6);
  const writers = new Set(lines.filter((l: AuditLine) => l.face === 'tencent').map((l) => l.writer));
  expect(writers.size).toBe(2);
  const again = lines.filter((l) => l.face === 'tencent' && l.writer !== writer);
  expect(again.map((l) => l.seq).sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6]);
  await expectIntact();
  // A crash (SIGKILL) loses at most what was not yet written; what was written still verifies.
  process.kill(kms.pid, 'SIGKILL');
  await kms.stopProcess();
  await expectIntact();
});

it('chains and seals a burst written in large batches (from the writer thread on SQLite)', async () => {
  const before = new Set((await auditList(kms.env)).map((l) => l.writer));
  await kms.launch();
  const c = kmsClient(kms.endpoint, cred);
  // 50 in flight: a flush every 200 ms finds hundreds of records, well above the thread's 64.
  const sent = 600;
  let next = 0;
  await Promise.all(
    Array.from({ length: 50 }, async () => {
      while (next++ < sent) await c.Encrypt({ KeyId: keyId, Plaintext: b64('burst') });
    }),
  );
  const lines = await waitForRecords(kms.env, (l) => l.filter((x) => x.face === 'tencent' && x.action === 'Encrypt' && !before.has(x.writer)).length >= sent);
  const burst = lines.filter((l) => l.face === 'tencent' && !before.has(l.writer));
  expect(burst.map((l) => l.seq).sort((a, b) => a - b)).toEqual(Array.from({ length: burst.length }, (_, i) => i + 1));
  await kms.stopProcess();
  expect((await expectIntact()).records).toBe((await auditList(kms.env)).length);
});

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { KmsService } from './support/kms-service';
import { PG_BASE } from './support/postgres';
import { REDIS_URL, ensureRedis } from './support/redis';
import { pacedLoad } from './support/paced-load';
import { impossibleAcceptances, impossibleRefusals, ownCounters } from './support/rate-window';
import { codeOf, kmsClient } from './support/tencent-client';
import { setTestClock } from './support/test-clock';

/**
 * Two instances (two workers each) on one PostgreSQL database and one Redis: together they
 * allow a 20/s action 20 times a second, and a scheduled deletion is carried out once.
 * Runs on PostgreSQL even in the SQLite pass, as the scenario is about a shared server.
 */

const PG = PG_BASE ?? 'postgres://postgres@127.0.0.1:5432/test';
let a: KmsService;
let b: KmsService;
let clockFile: string;

beforeAll(async () => {
  await ensureRedis();
  clockFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'kms-clock-')), 'offset');
  fs.writeFileSync(clockFile, '0');
  const env = { KMS_REDIS_URL: REDIS_URL, KMS_TEST_CLOCK_FILE: clockFile, KMS_JOB_INTERVAL_MS: '50', KMS_LOG_LEVEL: 'info' };
  a = await KmsService.start({ workers: 2, env, pg: PG });
  b = await KmsService.start({ workers: 2, shareWith: a });
});
afterAll(async () => {
  await b?.stopProcess();
  await a?.stop();
});

it('holds a 20/s action to 20/s across both instances over 5 seconds', async () => {
  const cred = await a.createAccount('shared-rate');
  const clients = [kmsClient(a.endpoint, cred), kmsClient(b.endpoint, cred)];
  // 40 calls a second, twice the limit, however slowly the machine answers.
  const { refused, other, calls } = await pacedLoad((i) => codeOf(clients[i % 2].GetRegions()), 40, 5000);
  expect(other).toEqual([]);
  // Shared: at most 20 accepted in any second over both instances (two counters would let 40
  // through), more only as far as the logs say the instances' own counters stood in for
  // Redis. Not closed: no call refused before 20 could have passed in the second before it,
  // over both instances. Both judged from when each call was sent and answered (a starved
  // machine's services took the calls in bursts and let through 60 in all: a count would have
  // to allow that).
  expect(refused).toBeGreaterThan(0);
  expect(impossibleRefusals(calls, 20)).toEqual([]);
  expect(impossibleAcceptances(calls, 20 * (1 + ownCounters(a.logs) + ownCounters(b.logs)))).toEqual([]);
}, 30_000);

it('carries out a scheduled deletion exactly once', async () => {
  const cred = await a.createAccount('shared-delete');
  const c = kmsClient(a.endpoint, cred);
  const ids: string[] = [];
  for (let i = 0; i < 5; i++) {
    const id = (await c.CreateKey({ Alias: `gone-${i}` })).KeyId!;
    await c.DisableKey({ KeyId: id });
    await c.ScheduleKeyDeletion({ KeyId: id, PendingWindowInDays: 7 });
    ids.push(id);
  }
  fs.writeFileSync(clockFile, String(8 * 86_400));
  const cb = kmsClient(b.endpoint, cred);
  const until = Date.now() + 10_000;
  for (const id of ids) while (Date.now() < until && (await codeOf(cb.DescribeKey({ KeyId: id }))) !== 'ResourceUnavailable.CmkNotFound') await new Promise((r) => setTimeout(r, 100));
  // Let any late duplicate show itself before counting.
  await new Promise((r) => setTimeout(r, 500));
  for (const id of ids) {
    expect(await codeOf(cb.DescribeKey({ KeyId: id }))).toBe('ResourceUnavailable.CmkNotFound');
    const lines = (a.logs + b.logs).match(new RegExp(`"msg":"cmk deleted","keyId":"${id}"`, 'g')) ?? [];
    expect(lines).toHaveLength(1);
  }
  await setTestClock(clockFile, 0);
}, 30_000);

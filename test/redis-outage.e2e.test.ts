import { KmsService } from './support/kms-service';
import { PrivateRedis } from './support/private-servers';
import { codeOf, kmsClient } from './support/tencent-client';
import { LoadOutcome, pacedLoad } from './support/paced-load';
import { impossibleRefusals } from './support/rate-window';
import { msUntil } from './support/wait';

/**
 * Redis stopped under load, then started again (a Redis of the test's own: the machine's is
 * shared). Two instances (two workers and one) share GetRegions' 20/s through it; while it is
 * down each instance counts on its own (20/s each: neither open nor closed) and says so, and
 * once it is back they share Redis's counters again, without a restart.
 */

let redis: PrivateRedis;
let a: KmsService;
let b: KmsService;
let clients: ReturnType<typeof kmsClient>[];

beforeAll(async () => {
  redis = await PrivateRedis.create();
  a = await KmsService.start({ workers: 2, env: { KMS_REDIS_URL: redis.url } });
  b = await KmsService.start({ workers: 1, shareWith: a });
  const cred = await a.createAccount('redis-outage');
  clients = [kmsClient(a.endpoint, cred), kmsClient(b.endpoint, cred)];
});
afterAll(async () => {
  await b?.stopProcess();
  await a?.stop();
  await redis?.destroy();
});

/** GetRegions over both instances at 60/s (above the two instances' 40/s when Redis is away) for `ms`. */
const load = (ms: number): Promise<LoadOutcome> => pacedLoad((i) => codeOf(clients[i % 2].GetRegions()), 60, ms);

it('shares the rate counters in Redis, counts per instance while Redis is down, and shares them again once it is back', async () => {
  const shared = await load(2000);
  expect(shared.other).toEqual([]);
  // Shared: two counters would let up to 80 through. Not closed: no call refused before 20
  // could have passed over both instances in the second before it (see impossibleRefusals: a
  // starved machine's services took the calls in bursts and let through 20 in all).
  expect(impossibleRefusals(shared.calls, 20)).toEqual([]);
  expect(shared.accepted).toBeLessThanOrEqual(50);
  // Counted in Redis (its keys may have expired by now on a loaded machine: a window after the last accepted call).
  expect(await redis.scriptCalls()).toBeGreaterThanOrEqual(shared.accepted);

  await redis.stop('SIGKILL');
  const down = await load(2000);
  expect(down.other).toEqual([]);
  // Not open: the instances' own limits (20/s each, at most 100 in 2 s with the window's edges)
  // refuse the rest, however many a loaded machine gets through. Not closed: each instance
  // refuses nothing before 20 could have passed through it in the second before (its calls
  // of the shared phase count too, for an instance that fell back to its own counters early).
  expect(down.refused).toBeGreaterThan(0);
  expect(down.accepted).toBeLessThanOrEqual(100);
  for (const instance of [0, 1]) {
    const at = (l: LoadOutcome) => l.calls.filter((c) => c.i % 2 === instance);
    expect(impossibleRefusals([...at(shared).filter((c) => c.code === 'OK'), ...at(down)], 20)).toEqual([]);
  }
  for (const s of [a, b]) expect(s.logs).toMatch(/rate-limit counters unreachable in Redis; counting in this instance/);

  await redis.start();
  const again = () => /rate-limit counters shared in Redis again/;
  const ms = await msUntil(async () => {
    await Promise.all(clients.map((c) => codeOf(c.GetRegions())));
    return again().test(a.logs) && again().test(b.logs);
  }, 10_000, 100);
  expect(ms).toBeLessThan(5000);
  await new Promise((r) => setTimeout(r, 1100)); // the probes leave the windows (Redis's and the instances')
  const back = await load(2000);
  expect(back.other).toEqual([]);
  expect(impossibleRefusals(back.calls, 20)).toEqual([]);
  expect(back.accepted).toBeLessThanOrEqual(50);
  // Counted in the Redis that came back (its statistics started again with it).
  expect(await redis.scriptCalls()).toBeGreaterThanOrEqual(back.accepted);
}, 60_000);

import { Credential, KmsService } from './support/kms-service';
import { PrivateRedis } from './support/private-servers';
import { sendFresh, signTc3 } from './support/signer';
import { codeOf, kmsClient } from './support/tencent-client';
import { LoadOutcome, pacedLoad } from './support/paced-load';
import { away, impossibleAcceptances, impossibleRefusals, lines, ownCounters, SHARED } from './support/rate-window';
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
let cred: Credential;

beforeAll(async () => {
  redis = await PrivateRedis.create();
  a = await KmsService.start({ workers: 2, env: { KMS_REDIS_URL: redis.url } });
  b = await KmsService.start({ workers: 1, shareWith: a });
  cred = await a.createAccount('redis-outage');
  clients = [kmsClient(a.endpoint, cred), kmsClient(b.endpoint, cred)];
});
afterAll(async () => {
  await b?.stopProcess();
  await a?.stop();
  await redis?.destroy();
});

/** GetRegions over both instances at 60/s (above the two instances' 40/s when Redis is away) for `ms`. */
const load = (ms: number): Promise<LoadOutcome> => pacedLoad((i) => codeOf(clients[i % 2].GetRegions()), 60, ms);

/** Where each service's log stood when a phase began. */
type Mark = number[];
const mark = (): Mark => [a.logs.length, b.logs.length];

it('shares the rate counters in Redis, counts per instance while Redis is down, and shares them again once it is back', async () => {
  let m = mark();
  const shared = await load(2000);
  expect(shared.other).toEqual([]);
  // Shared: no more than 20 accepted over both instances in any second (two counters would
  // let 40 through), judged from when each call was sent and answered, however slowly a loaded
  // machine serves them (a count would not do: a starved run's calls were decided over more
  // than 2 s, and 51 passed rightly); more only as far as the logs say counters stood in for
  // Redis. Not closed: no call refused before 20 could have passed over both instances in the
  // second before it (see impossibleRefusals: a starved machine's services took the calls in
  // bursts and let through 20 in all).
  expect(impossibleRefusals(shared.calls, 20)).toEqual([]);
  expect(impossibleAcceptances(shared.calls, 20 * (1 + ownCounters(a.logs, m[0]) + ownCounters(b.logs, m[1])))).toEqual([]);
  // Counted in Redis (its keys may have expired by now on a loaded machine: a window after the last accepted call).
  expect(await redis.scriptCalls()).toBeGreaterThanOrEqual(shared.accepted);

  await redis.stop('SIGKILL');
  m = mark();
  const down = await load(2000);
  expect(down.other).toEqual([]);
  // Not open: each instance holds to its own 20 in any second (more only for a worker that
  // counted alone). Not closed: each instance refuses nothing before 20 could have passed
  // through it in the second before (its calls of the shared phase count too, for an instance
  // that fell back to its own counters early).
  expect(down.refused).toBeGreaterThan(0);
  for (const [instance, s] of [a, b].entries()) {
    const at = (l: LoadOutcome) => l.calls.filter((c) => c.i % 2 === instance);
    expect(impossibleRefusals([...at(shared).filter((c) => c.code === 'OK'), ...at(down)], 20)).toEqual([]);
    expect(impossibleAcceptances(at(down), 20 * ownCounters(s.logs, m[instance]))).toEqual([]);
  }
  for (const s of [a, b]) expect(s.logs).toMatch(/rate-limit counters unreachable in Redis; counting in this instance/);

  await redis.start();
  // Back for every process that went away: each worker has its own connection to Redis, so
  // the probes go on new connections, which the cluster hands to its workers in turn.
  const probe = (s: KmsService) => sendFresh(signTc3(s.endpoint, cred, { action: 'GetRegions', body: '{}' }));
  const ms = await msUntil(async () => {
    await Promise.all([a, a, b].map(probe));
    return [a, b].every((s) => lines(s.logs).some((l) => l.msg === SHARED) && away(s.logs).length === 0);
  }, 10_000, 100);
  expect(ms).toBeLessThan(5000);
  await new Promise((r) => setTimeout(r, 1100)); // the probes leave the windows (Redis's and the instances')
  m = mark();
  const back = await load(2000);
  expect(back.other).toEqual([]);
  expect(impossibleRefusals(back.calls, 20)).toEqual([]);
  expect(impossibleAcceptances(back.calls, 20 * (1 + ownCounters(a.logs, m[0]) + ownCounters(b.logs, m[1])))).toEqual([]);
  // Counted in the Redis that came back (its statistics started again with it).
  expect(await redis.scriptCalls()).toBeGreaterThanOrEqual(back.accepted);
}, 60_000);

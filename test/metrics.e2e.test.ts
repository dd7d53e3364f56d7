import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import { Client } from 'pg';
import { WRAPPED } from './support/key-storage';
import { Credential, KmsService, freePort } from './support/kms-service';
import { b64, codeOf, kmsClient } from './support/tencent-client';
import { PG_BASE } from './support/postgres';
import { UNPLUGGABLE_PIN, UnpluggableToken, unpluggableToken } from './support/unpluggable-token';
import { msUntil } from './support/wait';

/**
 * Operations endpoints of one service (two workers, a token that can be pulled out): the
 * metrics on the admin port, merged across workers and moving with requests, refusals and
 * rate-limit refusals; KMS_METRICS_ALLOW for the metrics and readiness; readiness turning 503
 * with the part that is down.
 */

const SCRAPER = '127.0.0.2';

let token: UnpluggableToken;
let kms: KmsService;
let admin: number;
let cred: Credential;

beforeAll(async () => {
  token = unpluggableToken('kms-metrics', 300);
  admin = await freePort();
  kms = await KmsService.start({
    workers: 2,
    env: { KMS_HSM_PROFILE: token.profile, KMS_HSM_PIN: UNPLUGGABLE_PIN, KMS_ADMIN_PORT: String(admin), KMS_METRICS_ALLOW: `${SCRAPER}/32,::1`, KMS_RATE_LIMITS: 'ListKeys=2' },
  });
  cred = await kms.createAccount('metrics');
});
afterAll(async () => {
  await kms.stop();
  token.remove();
});

interface Answer {
  status: number;
  body: string;
}

/** GET on a connection of its own, from `from` (a loopback address the test binds). */
function get(port: number, path: string, from = '127.0.0.1'): Promise<Answer> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path, localAddress: from, agent: false }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode!, body }));
      })
      .on('error', reject);
  });
}

/** The samples of a scrape, by series as printed (`name{labels}`). */
async function scrape(): Promise<Map<string, number>> {
  const r = await get(admin, '/_kms/metrics', SCRAPER);
  expect(r.status).toBe(200);
  const samples = new Map<string, number>();
  for (const line of r.body.split('\n')) {
    const m = /^([a-z_]+(?:\{[^}]*\})?) (\S+)$/.exec(line);
    if (m) samples.set(m[1], Number(m[2]));
  }
  return samples;
}

const value = (s: Map<string, number>, series: string): number => s.get(series) ?? 0;

it('counts requests, refusals and rate-limit refusals across both workers', async () => {
  const c = kmsClient(kms.endpoint, cred, { agent: new http.Agent({ keepAlive: false }) });
  const before = await scrape();
  const { KeyId } = await c.CreateKey({ Alias: 'metrics' });
  expect(await codeOf(c.Encrypt({ KeyId: KeyId!, Plaintext: b64('counted') }))).toBe('OK');
  expect(await codeOf(c.DescribeKey({ KeyId: '00000000-0000-0000-0000-000000000000' }))).toBe('ResourceUnavailable.CmkNotFound');
  const burst = await Promise.all(Array.from({ length: 6 }, () => codeOf(c.ListKeys({}))));
  expect(burst).toContain('RequestLimitExceeded');
  const refused = burst.filter((x) => x === 'RequestLimitExceeded').length;
  expect(await codeOf(c.request('NoSuchAction', {}))).toBe('InvalidAction');
  const after = await scrape();

  const moved = (series: string) => value(after, series) - value(before, series);
  expect(moved('kms_requests_total{face="tencent",action="Encrypt",result="Success"}')).toBe(1);
  expect(moved('kms_requests_total{face="tencent",action="DescribeKey",result="ResourceUnavailable.CmkNotFound"}')).toBe(1);
  expect(moved('kms_requests_total{face="tencent",action="ListKeys",result="RequestLimitExceeded"}')).toBe(refused);
  expect(moved('kms_rate_limit_refusals_total{action="ListKeys"}')).toBe(refused);
  // An action nobody knows is counted, under a name callers cannot choose.
  expect(moved('kms_requests_total{face="tencent",action="unknown",result="InvalidAction"}')).toBe(1);
  expect([...after.keys()].some((k) => k.includes('NoSuchAction'))).toBe(false);
  expect(moved('kms_request_duration_seconds_count{face="tencent",action="Encrypt"}')).toBe(1);
  expect(value(after, 'kms_request_duration_seconds_bucket{face="tencent",action="Encrypt",le="+Inf"}')).toBe(value(after, 'kms_request_duration_seconds_count{face="tencent",action="Encrypt"}'));
  expect(moved('kms_cache_hits_total{cache="credential"}') + moved('kms_cache_misses_total{cache="credential"}')).toBeGreaterThanOrEqual(10);
  // Wrapped storage unwraps the new key's material once, for the Encrypt, and keeps it; token mode has nothing to unwrap.
  // (The key's creation, reaching a worker through the change feed after the Encrypt, may drop it again.)
  expect(moved('kms_cache_misses_total{cache="session_key"}')).toBe(WRAPPED ? 1 : 0);
  expect(moved('kms_session_keys')).toBeLessThanOrEqual(WRAPPED ? 1 : 0);
  expect(value(after, 'kms_workers_reporting')).toBe(2);
  expect(value(after, 'kms_token_up')).toBe(1);
  expect(value(after, 'kms_database_up')).toBe(1);
  expect(value(after, 'kms_token_sessions_max')).toBe(16); // 8 per worker, two workers
  expect(after.has('process_resident_memory_bytes')).toBe(true);
});

it('serves the metrics only on the admin port, to the addresses KMS_METRICS_ALLOW lists', async () => {
  expect((await get(kms.port, '/_kms/metrics', SCRAPER)).status).toBe(404);
  const denied = await get(admin, '/_kms/metrics', '127.0.0.1');
  expect(denied.status).toBe(403);
  expect(denied.body).not.toContain('kms_');
  expect((await get(admin, '/_kms/metrics', SCRAPER)).status).toBe(200);
  // The admin port answers the probes, and nothing of the API.
  expect((await get(admin, '/_kms/health')).status).toBe(200);
  expect((await get(admin, '/')).status).toBe(404);
});

it('serves readiness as it does the metrics; liveness to anyone, on both ports', async () => {
  expect((await get(kms.port, '/_kms/ready', SCRAPER)).status).toBe(404);
  const denied = await get(admin, '/_kms/ready', '127.0.0.1');
  expect(denied.status).toBe(403);
  expect(JSON.parse(denied.body)).toEqual({ error: expect.stringContaining('KMS_METRICS_ALLOW') });
  expect((await get(admin, '/_kms/ready', SCRAPER)).status).toBe(200);
  for (const port of [kms.port, admin]) expect(JSON.parse((await get(port, '/_kms/health')).body)).toEqual({ status: 'up' });
});

it('has a Grafana dashboard that asks only for metrics the service exports', async () => {
  const text = (await get(admin, '/_kms/metrics', SCRAPER)).body;
  const exported = new Set([...text.matchAll(/^# TYPE (\S+) (\S+)$/gm)].flatMap(([, name, type]) => (type === 'histogram' ? [`${name}_bucket`, `${name}_sum`, `${name}_count`] : [name])));
  const dashboard = fs.readFileSync(path.join(__dirname, '..', 'docs', 'grafana-dashboard.json'), 'utf8');
  const used = new Set(dashboard.match(/\b(kms|process|nodejs)_[a-z0-9_]+/g));
  expect(used.size).toBeGreaterThan(10);
  for (const name of used) expect([name, exported.has(name)]).toEqual([name, true]);
});

it('answers readiness 503 naming the token while it is away, and 200 once it is back', async () => {
  expect(JSON.parse((await get(admin, '/_kms/ready', SCRAPER)).body)).toEqual({ status: 'ready', database: 'up', token: 'up', audit: 'up' });
  const c = kmsClient(kms.endpoint, cred, { agent: new http.Agent({ keepAlive: false }) });
  token.unplug();
  try {
    // Each worker finds the token gone when a call of its own fails; connections take turns between workers.
    let seen: Answer | undefined;
    const down = await msUntil(async () => {
      await codeOf(c.GenerateRandom({ NumberOfBytes: 8 }));
      for (const r of [await get(admin, '/_kms/ready', SCRAPER), await get(admin, '/_kms/ready', SCRAPER)]) if (r.status === 503) seen = r;
      return seen !== undefined;
    }, 5000, 100);
    expect(down).toBeLessThan(5000);
    expect(JSON.parse(seen!.body)).toMatchObject({ status: 'down', token: 'down', database: 'up' });
  } finally {
    token.plugIn();
  }
  const back = await msUntil(async () => (await get(admin, '/_kms/ready', SCRAPER)).status === 200 && (await get(admin, '/_kms/ready', SCRAPER)).status === 200, 5000, 100);
  expect(back).toBeLessThan(5000);
});

const onPostgres = process.env.KMS_TEST_DATABASE_URL ? it : it.skip;

onPostgres('answers readiness 503 naming the database while it refuses connections', async () => {
  const db = new URL(kms.env.KMS_DATABASE_URL).pathname.slice(1);
  const pg = new Client({ connectionString: PG_BASE });
  await pg.connect();
  try {
    await pg.query(`ALTER DATABASE "${db}" WITH ALLOW_CONNECTIONS false`);
    await pg.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1', [db]);
    const down = await msUntil(async () => {
      const r = await get(admin, '/_kms/ready', SCRAPER);
      return r.status === 503 && JSON.parse(r.body).database === 'down';
    }, 5000, 100);
    expect(down).toBeLessThan(5000);
    expect(value(await scrape(), 'kms_database_up')).toBe(0);
  } finally {
    await pg.query(`ALTER DATABASE "${db}" WITH ALLOW_CONNECTIONS true`);
    await pg.end();
  }
  const back = await msUntil(async () => (await get(admin, '/_kms/ready', SCRAPER)).status === 200, 10_000, 100);
  expect(back).toBeLessThan(10_000);
});

import * as crypto from 'node:crypto';
import * as http from 'node:http';
import { Credential, KmsService } from './support/kms-service';
import { PrivatePostgres } from './support/private-servers';
import { b64, kmsClient } from './support/tencent-client';
import { msUntil } from './support/wait';

/**
 * A worker that dies while the database is away cannot be replaced until it returns: a new
 * worker needs the database to start. The service must not stop for that (it once did: the
 * primary took the failed start for a configuration error and stopped every worker). The
 * other workers serve on, the replacement is tried again less and less often, and once the
 * database is back the instance has all its workers again.
 */
let pg: PrivatePostgres;
let kms: KmsService;
let cred: Credential;

beforeAll(async () => {
  pg = await PrivatePostgres.create();
  // best-effort: cached keys are served while the database is away (required mode refuses after 5 s).
  kms = await KmsService.start({ workers: 2, pg: pg.url, env: { KMS_AUDIT: 'best-effort', KMS_RATE_LIMITS: 'off' } });
  cred = await kms.createAccount('replacement');
}, 60_000);
afterAll(async () => {
  // Dropping the test's database needs the server (a failed test may have left it stopped).
  if (pg && !(await pg.reachable())) await pg.start();
  await kms?.stop();
  await pg?.destroy();
});

it('keeps serving on its other workers while a dead one cannot be replaced, and replaces it once the database is back', async () => {
  const { KeyId } = await kmsClient(kms.endpoint, cred).CreateKey({ Alias: 'cached' });
  // Both workers cache the key and the credential: a connection per call, which the cluster
  // hands to the workers in turn (one kept-alive connection would reach one worker only).
  const warm = kmsClient(kms.endpoint, cred, { agent: new http.Agent({ keepAlive: false }) });
  for (let i = 0; i < 20; i++) await warm.Encrypt({ KeyId: KeyId!, Plaintext: b64('warm') });
  const workers = () => kms.processIds().filter((p) => p !== kms.pid);
  const first = workers();
  expect(first).toHaveLength(2);

  await pg.stop('SIGINT');
  process.kill(first[0], 'SIGKILL');
  // Two replacements fail (1 s after the death, then 1 s after the first failure): the service is still there.
  const failures = () => kms.logs.match(/a new worker failed to start; trying again/g)?.length ?? 0;
  expect(await msUntil(async () => failures() >= 2, 30_000, 100)).toBeLessThan(Infinity);
  expect(kms.logs).not.toMatch(/stopping/);
  // The surviving worker answers every call on the cached key (a fresh client: no connection of the dead worker's).
  const after = kmsClient(kms.endpoint, cred);
  for (let i = 0; i < 20; i++) expect((await after.Encrypt({ KeyId: KeyId!, Plaintext: b64(crypto.randomBytes(16)) })).CiphertextBlob).toBeTruthy();

  // Back: the next try (2, 4 ... s after the last failure) starts a worker, and writes go through again.
  await pg.start();
  expect(await msUntil(async () => (await servingWorkers(kms)) === 2, 30_000, 250)).toBeLessThan(Infinity);
  expect(workers()).toHaveLength(2);
  expect(workers()).toContain(first[1]);
  expect((await after.CreateKey({ Alias: 'after' })).KeyId).toBeTruthy();
}, 120_000);

/** Workers serving now, as the instance's metrics count them (loopback callers may scrape). */
function servingWorkers(s: KmsService): Promise<number> {
  return new Promise((resolve) => {
    http
      .get(`http://${s.endpoint}/_kms/metrics`, (res) => {
        let body = '';
        res.setEncoding('utf8').on('data', (d: string) => (body += d));
        res.on('end', () => resolve(Number(/^kms_workers_reporting (\d+)$/m.exec(body)?.[1] ?? 0)));
      })
      .on('error', () => resolve(0));
  });
}

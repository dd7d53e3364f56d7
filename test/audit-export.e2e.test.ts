import { jsonLines, waitForRecords } from './support/audit-db';
import { KmsService, kmsCli } from './support/kms-service';
import { kmsClient } from './support/tencent-client';

/** `kms audit export --since ISO`: every record since then, oldest first, as JSON lines (page by page inside). */

let kms: KmsService;
beforeAll(async () => {
  kms = await KmsService.start({ env: { KMS_RATE_LIMITS: 'off' } });
});
afterAll(async () => kms.stop());

it('streams every record since a time, oldest first, across pages', async () => {
  const cred = await kms.createAccount('audit-export');
  const c = kmsClient(kms.endpoint, cred);
  const before = new Date().toISOString();
  // More than one export page (1,000 records), from concurrent requests.
  const N = 1100;
  for (let i = 0; i < N; i += 50) await Promise.all(Array.from({ length: 50 }, () => c.GenerateRandom({ NumberOfBytes: 8 })));
  // Written in batches off the request path: on a loaded machine 1,100 records take a while.
  const written = await waitForRecords(kms.env, (l) => l.filter((x) => x.action === 'GenerateRandom').length >= N, 45_000);
  expect(written.filter((x) => x.action === 'GenerateRandom').length).toBe(N);
  const r = await kmsCli(kms.env, 'audit', 'export', '--since', before);
  expect(r.code).toBe(0);
  const lines = jsonLines(r.stdout);
  expect(lines.filter((l) => l.action === 'GenerateRandom').length).toBe(N);
  expect(lines.every((l) => l.time >= before)).toBe(true);
  for (let i = 1; i < lines.length; i++) expect(lines[i].time >= lines[i - 1].time).toBe(true);
  expect(new Set(lines.map((l) => `${l.writer}/${l.seq}`)).size).toBe(lines.length);
  expect(lines[0]).toEqual(expect.objectContaining({ face: 'tencent', action: 'GenerateRandom', account: cred.Uin, secretId: cred.SecretId, result: 'Success', source: '127.0.0.1' }));
  // Nothing after the last one.
  const later = await kmsCli(kms.env, 'audit', 'export', '--since', new Date(Date.parse(lines[lines.length - 1].time) + 1).toISOString());
  expect(jsonLines(later.stdout).filter((l) => l.action === 'GenerateRandom')).toEqual([]);
}, 120_000);

it('needs --since as an ISO time', async () => {
  for (const args of [[], ['--since'], ['--since', 'last week']]) {
    const r = await kmsCli(kms.env, 'audit', 'export', ...args);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--since/);
  }
});

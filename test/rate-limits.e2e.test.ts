import * as http from 'node:http';
import { Credential, KmsService } from './support/kms-service';
import { expectLimitedBurst } from './support/rate-burst';
import { servicePid } from './support/service-process';
import { send, signTc3 } from './support/signer';
import { codeOf, kmsClient } from './support/tencent-client';

/** Documented per-account, per-action limits on one instance with two workers (counters in the primary). */

let kms: KmsService;

beforeAll(async () => {
  kms = await KmsService.start({ workers: 2, env: { KMS_RATE_LIMITS: 'GetServiceStatus=3,Decrypt=2' } });
});
afterAll(() => kms.stop());

async function burst(cred: Credential, n: number, call: (c: ReturnType<typeof kmsClient>) => Promise<unknown>): Promise<Record<string, number>> {
  const c = kmsClient(kms.endpoint, cred);
  const codes = await Promise.all(Array.from({ length: n }, () => codeOf(call(c))));
  return codes.reduce<Record<string, number>>((acc, k) => ((acc[k] = (acc[k] ?? 0) + 1), acc), {});
}

it('allows the documented rate of an action to an account, across workers, and refuses the rest', async () => {
  const a = await kms.createAccount('limited');
  // GetRegions: 20 per second (a loaded machine may take more than a second over the burst).
  const ca = kmsClient(kms.endpoint, a);
  await expectLimitedBurst(() => codeOf(ca.GetRegions()), 60, 20, 'OK');
  // Another action and another account have budgets of their own.
  expect((await burst(a, 10, (c) => c.GenerateRandom({ NumberOfBytes: 4 }))).OK).toBe(10);
  const b = await kms.createAccount('other');
  expect((await burst(b, 20, (c) => c.GetRegions())).OK).toBe(20);
  // A second later the window has moved on.
  await new Promise((s) => setTimeout(s, 1100));
  expect((await burst(a, 5, (c) => c.GetRegions())).OK).toBe(5);
});

it('takes per-action overrides from the configuration', async () => {
  const a = await kms.createAccount('override');
  const c = kmsClient(kms.endpoint, a);
  await expectLimitedBurst(() => codeOf(c.GetServiceStatus()), 6, 3, 'OK');
});

it('counts in each worker alone while the primary does not answer: the limit holds, and that is logged; the metrics answer retry-later meanwhile', async () => {
  const cred = await kms.createAccount('stalled-primary');
  // Eight connections opened before the primary stops (it hands new ones to the workers),
  // spread over both workers.
  const agents = Array.from({ length: 8 }, () => new http.Agent({ keepAlive: true, maxSockets: 1 }));
  // And one for the metrics, which a worker gathers through the primary (loopback callers may scrape them).
  const scraper = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const metrics = () =>
    new Promise<{ status: number; body: string }>((resolve, reject) => {
      const [host, port] = kms.endpoint.split(':');
      http.get({ host, port: Number(port), path: '/_kms/metrics', agent: scraper }, (res) => {
        let body = '';
        res.setEncoding('utf8').on('data', (d: string) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode!, body }));
      }).on('error', reject);
    });
  try {
    // The official client on each connection.
    const clients = agents.map((agent) => kmsClient(kms.endpoint, cred, { agent }));
    expect(await Promise.all(clients.map((c) => codeOf(c.GetRegions())))).toEqual(Array(8).fill('OK'));
    expect((await metrics()).status).toBe(200);
    const pid = servicePid(kms.port);
    process.kill(pid, 'SIGSTOP');
    let codes: string[];
    let stuck: { status: number; body: string };
    try {
      [codes, stuck] = await Promise.all([Promise.all(clients.map((c) => codeOf(c.GetServiceStatus()))), metrics()]);
    } finally {
      process.kill(pid, 'SIGCONT');
    }
    // Not a hang: after the primary's 2 s to gather and 2 more, the scraper is told to retry.
    expect(stuck).toEqual({ status: 503, body: JSON.stringify({ error: 'the metrics could not be collected; retry' }) });
    // 3 a second, counted in each worker after a second without an answer: 3 to 6 of the 8
    // pass however the connections fell over the two workers, the rest are refused (letting
    // every call through would pass all 8).
    const ok = codes.filter((c) => c === 'OK').length;
    expect(ok).toBeGreaterThanOrEqual(3);
    expect(ok).toBeLessThanOrEqual(6);
    expect(codes.filter((c) => c === 'RequestLimitExceeded')).toHaveLength(8 - ok);
  } finally {
    for (const agent of [...agents, scraper]) agent.destroy();
  }
  expect(kms.logs).toMatch(/the primary did not answer a rate-limit count; this worker counts alone meanwhile/);
  expect(kms.logs).toMatch(/metrics scrape failed.*the primary process did not answer the metrics request/);
}, 20_000);

it('refuses a lone stateless call over the limit, though its action ran meanwhile: no plaintext, and the limit decides over its error', async () => {
  // One call at a time: each is alone, and Decrypt runs while the rate counter's verdict travels.
  const a = await kms.createAccount('lone');
  const c = kmsClient(kms.endpoint, a);
  const { KeyId } = await c.CreateKey({ Alias: 'lone' });
  const { CiphertextBlob } = await c.Encrypt({ KeyId: KeyId!, Plaintext: Buffer.from('pin 1234').toString('base64') });
  const decrypt = (blob: string) => send(signTc3(kms.endpoint, a, { action: 'Decrypt', body: JSON.stringify({ CiphertextBlob: blob }) }));
  const started = Date.now();
  const answers = [];
  for (const blob of [CiphertextBlob!, CiphertextBlob!, CiphertextBlob!, Buffer.from('not a blob').toString('base64')]) answers.push(await decrypt(blob));
  // Within one second only two pass; a machine too loaded to send four calls in a second proves nothing here.
  if (Date.now() - started < 1000) {
    expect(answers.map((x) => x.code ?? 'OK')).toEqual(['OK', 'OK', 'RequestLimitExceeded', 'RequestLimitExceeded']);
    expect(answers[1].body.Plaintext).toBe(Buffer.from('pin 1234').toString('base64'));
    expect(answers[2].body.Plaintext).toBeUndefined();
  }
});

it('takes per-account overrides, and can be switched off', async () => {
  const a = await kms.createAccount('vip');
  const vip = await KmsService.start({ shareWith: kms, env: { KMS_RATE_LIMITS: `${a.Uin}:GetRegions=40` } });
  try {
    const c = kmsClient(vip.endpoint, a);
    await expectLimitedBurst(() => codeOf(c.GetRegions()), 50, 40, 'OK');
  } finally {
    await vip.stopProcess();
  }
  const off = await KmsService.start({ shareWith: kms, env: { KMS_RATE_LIMITS: 'off' } });
  try {
    const c = kmsClient(off.endpoint, a);
    const codes = await Promise.all(Array.from({ length: 60 }, () => codeOf(c.GetRegions())));
    expect(codes.every((x) => x === 'OK')).toBe(true);
    expect(off.logs).toMatch(/RATE LIMITS ARE OFF/);
  } finally {
    await off.stopProcess();
  }
});

it('refuses a malformed KMS_RATE_LIMITS at start', async () => {
  await expect(KmsService.start({ shareWith: kms, env: { KMS_RATE_LIMITS: 'Encrypt=lots' } })).rejects.toThrow(/KMS_RATE_LIMITS: "Encrypt=lots" is not \[UIN:\]Action=N/);
});

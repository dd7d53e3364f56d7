import * as http from 'node:http';
import { HuaweiClient, rawRequest } from './support/huawei-client';
import { Credential, KmsService } from './support/kms-service';
import { PG_BASE } from './support/postgres';
import { REDIS_URL, ensureRedis } from './support/redis';
import { sendFresh, signTc3, withAction } from './support/signer';
import { b64, kmsClient } from './support/tencent-client';

/**
 * The TC3 signature binding across instances: two instances on one PostgreSQL database and
 * one Redis remember each signature's first use together. Runs on PostgreSQL even in the
 * SQLite pass, as the scenario is about a shared server.
 */

const PG = PG_BASE ?? 'postgres://postgres@127.0.0.1:5432/test';
const OTHER = '127.0.0.2';
const SIG = 'AuthFailure.SignatureFailure';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let a: KmsService;
let b: KmsService;
let cred: Credential;
let keyId: string;

beforeAll(async () => {
  await ensureRedis();
  a = await KmsService.start({ env: { KMS_REDIS_URL: REDIS_URL }, pg: PG });
  b = await KmsService.start({ shareWith: a });
  cred = await a.createAccount('binding-shared');
  keyId = (await kmsClient(a.endpoint, cred).CreateKey({ Alias: 'shared' })).KeyId!;
});
afterAll(async () => {
  await b?.stopProcess();
  await a?.stop();
});

const at = (s: KmsService, req: ReturnType<typeof signTc3>) => ({ url: req.url.replace(a.endpoint, s.endpoint), init: req.init });
const state = async () => (await kmsClient(b.endpoint, cred).DescribeKey({ KeyId: keyId })).KeyMetadata!.KeyState;

it('refuses at one instance a swap of a signature first used at the other, from another address or after 2 s', async () => {
  const captured = signTc3(a.endpoint, cred, { action: 'DescribeKey', body: JSON.stringify({ KeyId: keyId }) });
  expect((await sendFresh(captured)).code).toBeUndefined();
  expect((await sendFresh(at(b, withAction(captured, 'DisableKey')), OTHER)).code).toBe(SIG);
  await sleep(2100);
  expect((await sendFresh(at(b, withAction(captured, 'DisableKey')))).code).toBe(SIG);
  expect(await state()).toBe('Enabled');
  // An identical retry is still fine anywhere.
  expect((await sendFresh(at(b, captured), OTHER)).code).toBeUndefined();
});

it('refuses at one instance a ReEncrypt captured at the other and resent as Decrypt', async () => {
  const blob = (await kmsClient(a.endpoint, cred).Encrypt({ KeyId: keyId, Plaintext: b64('secret') })).CiphertextBlob!;
  const captured = signTc3(a.endpoint, cred, { action: 'ReEncrypt', body: JSON.stringify({ CiphertextBlob: blob }) });
  expect((await sendFresh(captured)).code).toBeUndefined();
  const r = await sendFresh(at(b, withAction(captured, 'Decrypt')), OTHER);
  expect(r.code).toBe(SIG);
  expect(r.body.Plaintext).toBeUndefined();
});

it('accepts at one instance a second action from the first use’s address within 2 s (the first use is shared, address and time included)', async () => {
  const first = signTc3(a.endpoint, cred, { action: 'DescribeKey', body: JSON.stringify({ KeyId: keyId }) });
  expect((await sendFresh(first)).code).toBeUndefined();
  expect((await sendFresh(at(b, withAction(first, 'GetKeyRotationStatus')))).code).toBeUndefined();
});

it('falls back to the instance’s own register while Redis is unreachable, and says so', async () => {
  const lone = await KmsService.start({ shareWith: a, env: { KMS_REDIS_URL: 'redis://127.0.0.1:1' } });
  try {
    const captured = signTc3(lone.endpoint, cred, { action: 'DescribeKey', body: JSON.stringify({ KeyId: keyId }) });
    expect((await sendFresh(captured)).code).toBeUndefined();
    expect((await sendFresh(withAction(captured, 'DisableKey'), OTHER)).code).toBe(SIG);
    expect(await state()).toBe('Enabled');
    expect(lone.logs).toMatch(/signature register unreachable in Redis/);
  } finally {
    await lone.stopProcess();
  }
});

it('refuses at one instance a REST request signed and first used at the other (KMS.0302), from another address or after 2 s', async () => {
  const hw = HuaweiClient.of(a.endpoint, cred);
  const path = `/v1.0/${hw.projectId}/kms/describe-key`;
  const body = JSON.stringify({ key_id: keyId });
  let headers: Record<string, string> = {};
  expect((await rawRequest(a.endpoint, cred, 'POST', path, body, { afterSigning: (h) => void (headers = { ...h, host: a.endpoint }) })).status).toBe(200);
  const resend = (s: KmsService, localAddress?: string): Promise<string> =>
    new Promise((resolve, reject) => {
      const [host, port] = s.endpoint.split(':');
      const req = http.request({ host, port: Number(port), method: 'POST', path, localAddress, agent: false, headers: { ...headers, 'content-length': String(body.length) } }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve(res.statusCode === 200 ? 'OK' : `${res.statusCode} ${JSON.parse(Buffer.concat(chunks).toString()).error_code}`));
      });
      req.on('error', reject);
      req.end(body);
    });
  expect(await resend(b, OTHER)).toBe('403 KMS.0302');
  expect(await resend(b)).toBe('OK');
  await sleep(2100);
  expect(await resend(b)).toBe('403 KMS.0302');
  expect(await resend(a)).toBe('403 KMS.0302');
});

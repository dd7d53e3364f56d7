import { Credential, KmsService } from './support/kms-service';
import { expectLimitedBurst } from './support/rate-burst';
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

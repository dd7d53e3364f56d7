import * as http from 'node:http';
import { Credential, KmsService } from './support/kms-service';
import { servicePid } from './support/service-process';
import { Answer, send, sendFresh, signTc3, signV1, withAction } from './support/signer';
import { b64, codeOf, kmsClient } from './support/tencent-client';

/**
 * A TC3 signature authorizes one request, not any action: the official SDK signs only
 * content-type and host, so X-TC-Action (and X-TC-Region) can be changed on a captured
 * request. Two workers, so that a swap must be caught by a worker that never saw the
 * original (fresh connections are spread over both by the cluster's round robin).
 */

let kms: KmsService;
let strict: KmsService;
let cred: Credential;
let keyId: string;

const OTHER = '127.0.0.2';
const SIG = 'AuthFailure.SignatureFailure';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const client = () => kmsClient(kms.endpoint, cred);
const state = async (id = keyId) => (await client().DescribeKey({ KeyId: id })).KeyMetadata!.KeyState;
/** Sends a request four times on fresh connections (so both workers see it); returns the codes. */
const fourTimes = async (req: Parameters<typeof send>[0], from?: string) => {
  const codes: (string | undefined)[] = [];
  for (let i = 0; i < 4; i++) codes.push((await sendFresh(req, from)).code);
  return codes;
};
const ok = (a: Answer) => expect(a.code).toBeUndefined();

beforeAll(async () => {
  kms = await KmsService.start({ workers: 2 });
  cred = await kms.createAccount('binding');
  keyId = (await client().CreateKey({ Alias: 'binding-main' })).KeyId!;
});
afterAll(async () => {
  await strict?.stop();
  await kms?.stop();
});

describe('a captured request resent with another X-TC-Action', () => {
  it('DescribeKey resent as DisableKey, ArchiveKey or ScheduleKeyDeletion from another address is refused, and the key stays Enabled', async () => {
    const captured = signTc3(kms.endpoint, cred, { action: 'DescribeKey', body: JSON.stringify({ KeyId: keyId }) });
    ok(await sendFresh(captured));
    for (const action of ['DisableKey', 'ArchiveKey', 'DeleteImportedKeyMaterial']) expect(await fourTimes(withAction(captured, action), OTHER)).toEqual([SIG, SIG, SIG, SIG]);
    expect(await state()).toBe('Enabled');
  });

  it('ReEncrypt resent as Decrypt does not return the plaintext', async () => {
    const blob = (await client().Encrypt({ KeyId: keyId, Plaintext: b64('card 4111') })).CiphertextBlob!;
    const captured = signTc3(kms.endpoint, cred, { action: 'ReEncrypt', body: JSON.stringify({ CiphertextBlob: blob }) });
    ok(await sendFresh(captured));
    for (let i = 0; i < 4; i++) {
      const a = await sendFresh(withAction(captured, 'Decrypt'), OTHER);
      expect(a.code).toBe(SIG);
      expect(a.body.Plaintext).toBeUndefined();
    }
  });

  it('a refused signature decides the answer over a stateless action failing meanwhile', async () => {
    // A lone request runs a stateless action (Decrypt) while its signature's claim travels.
    const captured = signTc3(kms.endpoint, cred, { action: 'ReEncrypt', body: JSON.stringify({ CiphertextBlob: b64('not a blob') }) });
    expect((await sendFresh(captured)).code).toBe('InvalidParameterValue.InvalidCiphertext');
    // Signed for Decrypt, such a body gets the action's own error.
    expect((await sendFresh(signTc3(kms.endpoint, cred, { action: 'Decrypt', body: JSON.stringify({ CiphertextBlob: b64('not a blob either') }) }))).code).toBe('InvalidParameterValue.InvalidCiphertext');
    expect(await fourTimes(withAction(captured, 'Decrypt'), OTHER)).toEqual([SIG, SIG, SIG, SIG]);
  });

  it('is refused from the same address once 2 seconds have passed since the first use', async () => {
    const captured = signTc3(kms.endpoint, cred, { action: 'DescribeKey', body: JSON.stringify({ KeyId: keyId }) });
    ok(await sendFresh(captured));
    await sleep(2100);
    expect(await fourTimes(withAction(captured, 'DisableKey'))).toEqual([SIG, SIG, SIG, SIG]);
    expect(await state()).toBe('Enabled');
  });

  it('is refused before its parameters are checked; an action that does not exist is not remembered at all', async () => {
    const captured = signTc3(kms.endpoint, cred, { action: 'DescribeKey', body: JSON.stringify({ KeyId: keyId }) });
    ok(await sendFresh(captured));
    // Only names the face knows take room in the register: header text as sent never does.
    expect(await fourTimes(withAction(captured, 'NoSuchAction'), OTHER)).toEqual(['InvalidAction', 'InvalidAction', 'InvalidAction', 'InvalidAction']);
    expect(await fourTimes(withAction(captured, 'GenerateRandom'), OTHER)).toEqual([SIG, SIG, SIG, SIG]);
  });

  it('is refused when the Authorization header is reformatted (the signature is what is remembered)', async () => {
    const captured = signTc3(kms.endpoint, cred, { action: 'DescribeKey', body: JSON.stringify({ KeyId: keyId }) });
    ok(await sendFresh(captured));
    const swapped = withAction(captured, 'DisableKey');
    const h = swapped.init.headers as Record<string, string>;
    h.Authorization = h.Authorization.replace(/, /g, ',');
    expect(await fourTimes(swapped, OTHER)).toEqual([SIG, SIG, SIG, SIG]);
    expect(await state()).toBe('Enabled');
  });

  it('is refused for a GET request too', async () => {
    const captured = signTc3(kms.endpoint, cred, { action: 'DescribeKey', method: 'GET', query: `KeyId=${keyId}` });
    ok(await sendFresh(captured));
    expect(await fourTimes(withAction(captured, 'DisableKey'), OTHER)).toEqual([SIG, SIG, SIG, SIG]);
    expect(await state()).toBe('Enabled');
  });

  it('binds X-TC-Region as well: the same request sent to another region from another address is refused', async () => {
    const captured = signTc3(kms.endpoint, cred, { action: 'ListKeys', body: '{}' });
    ok(await sendFresh(captured));
    const moved = { url: captured.url, init: { ...captured.init, headers: { ...(captured.init.headers as Record<string, string>), 'X-TC-Region': 'ap-shanghai' } } };
    expect(await fourTimes(moved, OTHER)).toEqual([SIG, SIG, SIG, SIG]);
  });
});

describe('honest traffic', () => {
  /** Runs `fn` at the start of a second, again until it finishes within that second. */
  const withinOneSecond = async (fn: () => Promise<void>) => {
    for (let attempt = 0; attempt < 5; attempt++) {
      await sleep(1000 - (Date.now() % 1000) + 20);
      const second = Math.floor(Date.now() / 1000);
      await fn();
      if (Math.floor(Date.now() / 1000) === second) return;
    }
    throw new Error('could not run within one second');
  };

  it('the SDK may DisableKey then EnableKey (and DescribeKey then GetKeyRotationStatus) with the same body in the same second', async () => {
    await withinOneSecond(async () => {
      const c = client();
      expect(await codeOf(c.DisableKey({ KeyId: keyId }))).toBe('OK');
      expect(await codeOf(c.EnableKey({ KeyId: keyId }))).toBe('OK');
      expect(await codeOf(c.DescribeKey({ KeyId: keyId }))).toBe('OK');
      expect(await codeOf(c.GetKeyRotationStatus({ KeyId: keyId }))).toBe('OK');
    });
    expect(await state()).toBe('Enabled');
  });

  it('two actions with one signature from the same address within 2 s are accepted on any worker, and each may be retried later', async () => {
    const first = signTc3(kms.endpoint, cred, { action: 'DescribeKey', body: JSON.stringify({ KeyId: keyId }) });
    ok(await sendFresh(first));
    expect(await fourTimes(withAction(first, 'GetKeyRotationStatus'))).toEqual([undefined, undefined, undefined, undefined]);
    await sleep(2100);
    expect(await fourTimes(withAction(first, 'GetKeyRotationStatus'))).toEqual([undefined, undefined, undefined, undefined]);
    expect(await fourTimes(first)).toEqual([undefined, undefined, undefined, undefined]);
  });

  it('an identical retry keeps working, on every worker, from any address, after 2 s', async () => {
    const req = signTc3(kms.endpoint, cred, { action: 'GenerateRandom', body: '{"NumberOfBytes":16}' });
    ok(await sendFresh(req));
    await sleep(2100);
    expect(await fourTimes(req)).toEqual([undefined, undefined, undefined, undefined]);
    expect(await fourTimes(req, OTHER)).toEqual([undefined, undefined, undefined, undefined]);
  });

  it('v1 signatures cover the Action and are not concerned', async () => {
    for (const signMethod of ['HmacSHA256', 'HmacSHA1'] as const) expect(await codeOf(kmsClient(kms.endpoint, cred, { signMethod }).DescribeKey({ KeyId: keyId }))).toBe('OK');
    const req = signV1(kms.endpoint, cred, { params: { Action: 'DescribeKey', KeyId: keyId } });
    req.init.body = (req.init.body as string).replace('Action=DescribeKey', 'Action=DisableKey');
    expect((await send(req)).code).toBe(SIG);
  });
});

describe('a signed X-TC-Action', () => {
  const signed = (action: string, body: string, signHeaders = ['x-tc-action']) => signTc3(kms.endpoint, cred, { action, body, signHeaders });

  it('is verified: a request that signs x-tc-action works, and a changed action is refused', async () => {
    const req = signed('DescribeKey', JSON.stringify({ KeyId: keyId }));
    ok(await send(req));
    expect((await send(withAction(req, 'DisableKey'))).code).toBe(SIG);
    expect(await state()).toBe('Enabled');
  });

  it('also from clients that sign the values as sent, not lower-cased as the document says', async () => {
    const req = signTc3(kms.endpoint, cred, { action: 'DescribeKey', body: JSON.stringify({ KeyId: keyId }), signHeaders: ['x-tc-action'], valuesAsSent: true });
    ok(await send(req));
    expect((await send(withAction(req, 'DisableKey'))).code).toBe(SIG);
  });

  it('also when X-TC-Action is sent in another case than signed (values are signed lower-cased)', async () => {
    const req = signed('DescribeKey', JSON.stringify({ KeyId: keyId }));
    expect((await send(withAction(req, 'describekey'))).code).toBe('InvalidAction');
  });

  it('signing x-tc-action and x-tc-region leaves nothing to bind: the request may be resent from anywhere', async () => {
    const req = signed('GenerateRandom', '{"NumberOfBytes":8}', ['x-tc-action', 'x-tc-region']);
    ok(await sendFresh(req));
    await sleep(2100);
    expect(await fourTimes(req, OTHER)).toEqual([undefined, undefined, undefined, undefined]);
    const moved = { url: req.url, init: { ...req.init, headers: { ...(req.init.headers as Record<string, string>), 'X-TC-Region': 'ap-shanghai' } } };
    expect((await sendFresh(moved)).code).toBe(SIG);
  });

  it('with only x-tc-action signed, the region stays bound to the first use', async () => {
    const req = signed('ListKeys', '{}');
    ok(await sendFresh(req));
    const moved = { url: req.url, init: { ...req.init, headers: { ...(req.init.headers as Record<string, string>), 'X-TC-Region': 'ap-shanghai' } } };
    expect(await fourTimes(moved, OTHER)).toEqual([SIG, SIG, SIG, SIG]);
  });
});

describe('when the cluster primary does not answer', () => {
  it('a worker decides alone after a second, still refusing a swap it saw, and logs it', async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const over = (req: ReturnType<typeof signTc3>) =>
      new Promise<string | undefined>((resolve, reject) => {
        const body = req.init.body as string;
        const r = http.request(req.url, { method: 'POST', headers: { ...(req.init.headers as Record<string, string>), 'Content-Length': Buffer.byteLength(body) }, agent }, (res) => {
          let text = '';
          res.on('data', (c) => (text += c));
          res.on('end', () => resolve(JSON.parse(text).Response.Error?.Code));
        });
        r.on('error', reject);
        r.end(body);
      });
    // One connection, so one worker, opened before the primary stops.
    expect(await over(signTc3(kms.endpoint, cred, { action: 'GetRegions', body: '{}' }))).toBeUndefined();
    const pid = servicePid(kms.port);
    process.kill(pid, 'SIGSTOP');
    try {
      const captured = signTc3(kms.endpoint, cred, { action: 'DescribeKey', body: JSON.stringify({ KeyId: keyId }) });
      expect(await over(captured)).toBeUndefined();
      await sleep(2100);
      expect(await over(withAction(captured, 'DisableKey'))).toBe(SIG);
    } finally {
      process.kill(pid, 'SIGCONT');
      agent.destroy();
    }
    expect(await state()).toBe('Enabled');
    expect(kms.logs).toMatch(/the primary did not answer a signature claim/);
  }, 20_000);
});

describe('KMS_TC3_REQUIRE_SIGNED_ACTION=1', () => {
  beforeAll(async () => {
    strict = await KmsService.start({ shareWith: kms, env: { KMS_TC3_REQUIRE_SIGNED_ACTION: '1' } });
  });

  it("refuses the SDK's default signing (content-type;host) with a clear message", async () => {
    const a = await send(signTc3(strict.endpoint, cred, { action: 'GetRegions', body: '{}' }));
    expect(a.code).toBe(SIG);
    expect(JSON.stringify(a.body)).toMatch(/x-tc-action in SignedHeaders \(KMS_TC3_REQUIRE_SIGNED_ACTION\)/);
    expect(await codeOf(kmsClient(strict.endpoint, cred).GetRegions())).toBe(SIG);
  });

  it('accepts a request that signs x-tc-action, and v1 (which signs Action)', async () => {
    ok(await send(signTc3(strict.endpoint, cred, { action: 'DescribeKey', body: JSON.stringify({ KeyId: keyId }), signHeaders: ['x-tc-action'] })));
    expect(await codeOf(kmsClient(strict.endpoint, cred, { signMethod: 'HmacSHA256' }).GetRegions())).toBe('OK');
  });

  it('refuses to start with a value other than 1 or 0', async () => {
    await expect(KmsService.start({ shareWith: kms, env: { KMS_TC3_REQUIRE_SIGNED_ACTION: 'yes' } })).rejects.toThrow(/KMS_TC3_REQUIRE_SIGNED_ACTION must be 1 or 0, got \\"yes\\"/);
  });
});

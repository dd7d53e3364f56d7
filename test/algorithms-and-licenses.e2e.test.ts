import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Credential, KmsService } from './support/kms-service';
import { codeOf, kmsClient } from './support/tencent-client';
import { UNPLUGGABLE_PIN, UnpluggableToken, unpluggableToken } from './support/unpluggable-token';
import * as pkcs11 from 'pkcs11js';

/** ListAlgorithms and DescribeTSMLicenses over HTTP with the official SDK. */

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kms-tsm-'));
function licensesFile(content: string): string {
  const f = path.join(dir, `licenses-${fs.readdirSync(dir).length}.json`);
  fs.writeFileSync(f, content);
  return f;
}

const LICENSES = [
  { Version: 'tsm_license_v1', TsmAppId: 'ic.nt.com', Cert: '-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoEcz1UBgi0DQgAE\n-----END PUBLIC KEY-----' },
  { Version: 'tsm_license_v2', TsmAppId: 'example.org', Cert: 'cert-v2' },
];

describe('with the default configuration', () => {
  let kms: KmsService;
  let cred: Credential;
  beforeAll(async () => {
    kms = await KmsService.start();
    cred = await kms.createAccount('algorithms');
  });
  afterAll(() => kms.stop());

  it('ListAlgorithms lists AES_256 for ENCRYPT_DECRYPT, and the RSA and P-256 pairs SoftHSM performs', async () => {
    const r = await kmsClient(kms.endpoint, cred).ListAlgorithms();
    expect(r.SymmetricAlgorithms).toEqual([{ KeyUsage: 'ENCRYPT_DECRYPT', Algorithm: 'AES_256' }]);
    expect(r.AsymmetricAlgorithms).toEqual([{ KeyUsage: 'ASYMMETRIC_DECRYPT_RSA_2048', Algorithm: 'RSA_2048' }]);
    expect(r.AsymmetricSignVerifyAlgorithms).toEqual([
      { KeyUsage: 'ASYMMETRIC_SIGN_VERIFY_RSA_2048', Algorithm: 'RSA_2048' },
      { KeyUsage: 'ASYMMETRIC_SIGN_VERIFY_ECC', Algorithm: 'ECC_P256' },
    ]);
  });

  it('ListAlgorithms advertises exactly the key usages CreateKey accepts', async () => {
    const c = kmsClient(kms.endpoint, cred);
    const r = await c.ListAlgorithms();
    const listed = new Set([...r.SymmetricAlgorithms!, ...r.AsymmetricAlgorithms!, ...r.AsymmetricSignVerifyAlgorithms!].map((a) => a.KeyUsage));
    const usages = ['ENCRYPT_DECRYPT', 'ASYMMETRIC_DECRYPT_RSA_2048', 'ASYMMETRIC_DECRYPT_SM2', 'ASYMMETRIC_SIGN_VERIFY_SM2', 'ASYMMETRIC_SIGN_VERIFY_RSA_2048', 'ASYMMETRIC_SIGN_VERIFY_ECC'];
    for (const [i, KeyUsage] of usages.entries()) {
      const code = await codeOf(c.CreateKey({ Alias: `usage-${i}`, KeyUsage }));
      expect([KeyUsage, code]).toEqual([KeyUsage, listed.has(KeyUsage) ? 'OK' : 'UnsupportedOperation.UnsupportedKeyUsageInCurrentRegion']);
    }
  });

  it('ListAlgorithms answers in every served region, signed either way', async () => {
    for (const opts of [{ region: 'ap-shanghai' }, { signMethod: 'HmacSHA1' as const, reqMethod: 'GET' as const }]) {
      expect((await kmsClient(kms.endpoint, cred, opts).ListAlgorithms()).SymmetricAlgorithms).toHaveLength(1);
    }
  });

  it('DescribeTSMLicenses answers an empty list when no license is configured', async () => {
    // The SDK has no method for this action; its generic request signs and sends it the same way.
    const r = (await kmsClient(kms.endpoint, cred).request('DescribeTSMLicenses', {})) as { Licenses: unknown[]; RequestId: string };
    expect(r.Licenses).toEqual([]);
    expect(r.RequestId).toBeTruthy();
  });
});

describe("a fresh service's first ListAlgorithms", () => {
  let kms: KmsService;
  afterAll(() => kms?.stop());

  it('measures the token off the event loop: other requests are answered meanwhile', async () => {
    kms = await KmsService.start();
    const c = kmsClient(kms.endpoint, await kms.createAccount('first-listing'));
    const { KeyId } = await c.CreateKey({ Alias: 'first-listing' });
    await c.DescribeKey({ KeyId: KeyId! });
    // Its probes make RSA-2048 pairs in the token: a tenth of a second to seconds. Held up by
    // them, at most two calls could finish meanwhile: one before they start, one racing the end
    // (50 are enough to tell, and stay under the per-second rate limit).
    let listed = false;
    const listing = c.ListAlgorithms().then(() => (listed = true));
    let answered = 0;
    while (!listed && answered < 50) {
      await c.DescribeKey({ KeyId: KeyId! });
      answered++;
    }
    await listing;
    expect(answered).toBeGreaterThanOrEqual(3);
  });
});

describe('a token that lists RSA-PSS signing and P-256 pairs but refuses them', () => {
  let token: UnpluggableToken;
  let kms: KmsService;
  beforeAll(async () => {
    token = unpluggableToken('kms-no-pss', 500, { sign: pkcs11.CKM_RSA_PKCS_PSS, keyPair: pkcs11.CKM_EC_KEY_PAIR_GEN });
    kms = await KmsService.start({ env: { KMS_HSM_PROFILE: token.profile, KMS_HSM_PIN: UNPLUGGABLE_PIN } });
  }, 60_000);
  afterAll(async () => {
    await kms?.stop();
    token?.remove();
  });

  it('is measured algorithm by algorithm: PKCS#1 v1.5 signing, probed after the refusal, still works', async () => {
    const c = kmsClient(kms.endpoint, await kms.createAccount('no-pss'));
    const r = await c.ListAlgorithms();
    // No P-256 pair could be made for the probe: ECC keys are not offered.
    expect(r.AsymmetricSignVerifyAlgorithms!.map((a) => a.KeyUsage)).toEqual(['ASYMMETRIC_SIGN_VERIFY_RSA_2048']);
    expect(await codeOf(c.CreateKey({ Alias: 'ecc-signer', KeyUsage: 'ASYMMETRIC_SIGN_VERIFY_ECC' }))).toBe('UnsupportedOperation.UnsupportedKeyUsageInCurrentRegion');
    const { KeyId } = await c.CreateKey({ Alias: 'rsa-signer', KeyUsage: 'ASYMMETRIC_SIGN_VERIFY_RSA_2048' });
    const Message = Buffer.from('probed').toString('base64');
    const { Signature } = await c.SignByAsymmetricKey({ KeyId: KeyId!, Algorithm: 'RSA_PKCS1_SHA_256', Message });
    expect((await c.VerifyByAsymmetricKey({ KeyId: KeyId!, Algorithm: 'RSA_PKCS1_SHA_256', Message, SignatureValue: Signature! })).SignatureValid).toBe(true);
    expect(await codeOf(c.SignByAsymmetricKey({ KeyId: KeyId!, Algorithm: 'RSA_PSS_SHA_256', Message }))).toBe('InvalidParameter');
  });
});

describe('with KMS_TSM_LICENSES_FILE', () => {
  it('DescribeTSMLicenses answers the configured licenses', async () => {
    const kms = await KmsService.start({ env: { KMS_TSM_LICENSES_FILE: licensesFile(JSON.stringify(LICENSES)) } });
    try {
      const cred = await kms.createAccount('licenses');
      const r = (await kmsClient(kms.endpoint, cred).request('DescribeTSMLicenses', {})) as { Licenses: unknown[] };
      expect(r.Licenses).toEqual(LICENSES);
    } finally {
      await kms.stop();
    }
  });

  it.each([
    ['a missing file', path.join(dir, 'nowhere.json')],
    ['a file that is not JSON', () => licensesFile('Version: 1')],
    ['a JSON object instead of an array', () => licensesFile(JSON.stringify(LICENSES[0]))],
    ['an entry without Cert', () => licensesFile(JSON.stringify([{ Version: 'v1', TsmAppId: 'a' }]))],
    ['an entry with an unknown field', () => licensesFile(JSON.stringify([{ ...LICENSES[0], Certificate: 'x' }]))],
    ['an entry with a number', () => licensesFile(JSON.stringify([{ ...LICENSES[0], Version: 1 }]))],
  ])('refuses to start with %s', async (_n, file) => {
    const f = typeof file === 'string' ? file : file();
    await expect(KmsService.start({ env: { KMS_TSM_LICENSES_FILE: f } })).rejects.toThrow(/kms serve exited[\s\S]*KMS_TSM_LICENSES_FILE/);
  });
});

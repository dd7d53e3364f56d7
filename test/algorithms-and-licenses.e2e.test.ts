import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Credential, KmsService } from './support/kms-service';
import { codeOf, kmsClient } from './support/tencent-client';

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
    const order: string[] = [];
    // Its probes make several RSA-2048 pairs in the token: a second or more.
    const listing = c.ListAlgorithms().then(() => order.push('ListAlgorithms'));
    await new Promise((r) => setTimeout(r, 200)); // the listing is under way
    await c.DescribeKey({ KeyId: KeyId! }).then(() => order.push('DescribeKey'));
    await listing;
    expect(order).toEqual(['DescribeKey', 'ListAlgorithms']);
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

import { KmsService, Credential } from './support/kms-service';
import { SignMethod, b64, kmsClient } from './support/tencent-client';

let kms: KmsService;
let cred: Credential;

beforeAll(async () => {
  kms = await KmsService.start({ workers: 2 });
  cred = await kms.createAccount('happy');
});
afterAll(() => kms.stop());

const variants: Array<[SignMethod, 'POST' | 'GET']> = [
  ['TC3-HMAC-SHA256', 'POST'],
  ['TC3-HMAC-SHA256', 'GET'],
  ['HmacSHA256', 'POST'],
  ['HmacSHA256', 'GET'],
  ['HmacSHA1', 'POST'],
  ['HmacSHA1', 'GET'],
];

describe.each(variants)('signed with %s over %s', (signMethod, reqMethod) => {
  const alias = `happy-${signMethod}-${reqMethod}`.replace(/[^A-Za-z0-9_-]/g, '');

  it('creates a key, encrypts, decrypts, describes and lists it', async () => {
    const c = kmsClient(kms.endpoint, cred, { signMethod, reqMethod });
    const created = await c.CreateKey({ Alias: alias, Description: 'a key for tests', Tags: [{ TagKey: 'env', TagValue: 'test' }] });
    expect(created).toMatchObject({ Alias: alias, Description: 'a key for tests', KeyState: 'Enabled', KeyUsage: 'ENCRYPT_DECRYPT', TagCode: 0 });
    expect(created.KeyId).toMatch(/^[0-9a-f-]{36}$/);
    expect(Math.abs(created.CreateTime! - Date.now() / 1000)).toBeLessThan(60);

    const plaintext = Buffer.from(`secret for ${alias} \u00e9\u4e2d`);
    const enc = await c.Encrypt({ KeyId: created.KeyId!, Plaintext: b64(plaintext), EncryptionContext: '{"app":"t","tenant":"1"}' });
    expect(enc.KeyId).toBe(created.KeyId);
    // Context key order and spacing do not matter; Decrypt needs no KeyId.
    const dec = await c.Decrypt({ CiphertextBlob: enc.CiphertextBlob!, EncryptionContext: '{ "tenant": "1", "app": "t" }' });
    expect(dec.KeyId).toBe(created.KeyId);
    expect(Buffer.from(dec.Plaintext!, 'base64')).toEqual(plaintext);

    const md = (await c.DescribeKey({ KeyId: created.KeyId! })).KeyMetadata!;
    expect(md).toEqual({
      KeyId: created.KeyId,
      Alias: alias,
      CreateTime: created.CreateTime,
      Description: 'a key for tests',
      KeyState: 'Enabled',
      KeyUsage: 'ENCRYPT_DECRYPT',
      Type: 2,
      CreatorUin: Number(cred.Uin),
      KeyRotationEnabled: false,
      Owner: 'user',
      NextRotateTime: 0,
      DeletionDate: 0,
      Origin: 'KMS',
      ValidTo: 0,
      ResourceId: `creatorUin/${cred.Uin}/${created.KeyId}`,
      RotateDays: 0,
      LastRotateTime: 0,
    });
    const many = await c.DescribeKeys({ KeyIds: [created.KeyId!] });
    expect(many.KeyMetadatas).toEqual([md]);

    const list = await c.ListKeys({ Offset: 0, Limit: 200 });
    expect(list.Keys!.map((k) => k.KeyId)).toContain(created.KeyId);
    expect(list.TotalCount).toBe(list.Keys!.length);
  });

  it('generates random bytes and answers the service actions', async () => {
    const c = kmsClient(kms.endpoint, cred, { signMethod, reqMethod });
    for (const n of [1, 32, 1024]) expect(Buffer.from((await c.GenerateRandom({ NumberOfBytes: n })).Plaintext!, 'base64')).toHaveLength(n);
    expect(await c.GetServiceStatus()).toMatchObject({ ServiceEnabled: true, InvalidType: 1 });
    expect((await c.GetRegions()).Regions).toEqual(['ap-guangzhou', 'ap-shanghai']);
  });
});

describe('data and paging', () => {
  it('encrypts empty and 4 KB plaintexts and a context-free message', async () => {
    const c = kmsClient(kms.endpoint, cred);
    const { KeyId } = await c.CreateKey({ Alias: 'sizes' });
    for (const size of [0, 1, 4096]) {
      const pt = Buffer.alloc(size, 7);
      const enc = await c.Encrypt({ KeyId: KeyId!, Plaintext: pt.toString('base64') });
      const dec = await c.Decrypt({ CiphertextBlob: enc.CiphertextBlob! });
      expect(Buffer.from(dec.Plaintext!, 'base64')).toEqual(pt);
    }
  });

  it('encrypts twice to different ciphertexts (fresh IV per call)', async () => {
    const c = kmsClient(kms.endpoint, cred);
    const { KeyId } = await c.CreateKey({ Alias: 'fresh-iv' });
    const a = await c.Encrypt({ KeyId: KeyId!, Plaintext: b64('same') });
    const b = await c.Encrypt({ KeyId: KeyId!, Plaintext: b64('same') });
    expect(a.CiphertextBlob).not.toBe(b.CiphertextBlob);
  });

  it('pages ListKeys with an exact TotalCount', async () => {
    const other = await kms.createAccount('pager');
    const c = kmsClient(kms.endpoint, other);
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await c.CreateKey({ Alias: `page-${i}` })).KeyId!);
    const p1 = await c.ListKeys({ Offset: 0, Limit: 2 });
    const p2 = await c.ListKeys({ Offset: 2, Limit: 2 });
    const p3 = await c.ListKeys({ Offset: 4, Limit: 2 });
    expect(p1.TotalCount).toBe(5);
    expect([...p1.Keys!, ...p2.Keys!, ...p3.Keys!].map((k) => k.KeyId).sort()).toEqual([...ids].sort());
    expect((await c.ListKeys({})).Keys).toHaveLength(5);
    expect(await c.ListKeys({ Role: 1 })).toMatchObject({ Keys: [], TotalCount: 0 });
  });

  it('creates an EXTERNAL key waiting for its material', async () => {
    const c = kmsClient(kms.endpoint, cred);
    const k = await c.CreateKey({ Alias: 'external', Type: 2 });
    expect(k.KeyState).toBe('PendingImport');
    const md = (await c.DescribeKey({ KeyId: k.KeyId! })).KeyMetadata!;
    expect(md).toMatchObject({ Origin: 'EXTERNAL', KeyState: 'PendingImport' });
  });

  it('disables and enables a key', async () => {
    const c = kmsClient(kms.endpoint, cred);
    const { KeyId } = await c.CreateKey({ Alias: 'toggle' });
    const enc = await c.Encrypt({ KeyId: KeyId!, Plaintext: b64('x') });
    await c.DisableKey({ KeyId: KeyId! });
    expect((await c.DescribeKey({ KeyId: KeyId! })).KeyMetadata!.KeyState).toBe('Disabled');
    await c.EnableKey({ KeyId: KeyId! });
    expect(Buffer.from((await c.Decrypt({ CiphertextBlob: enc.CiphertextBlob! })).Plaintext!, 'base64').toString()).toBe('x');
  });
});

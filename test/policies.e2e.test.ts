import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Credential, KmsService, kmsCli } from './support/kms-service';
import { b64, codeOf, kmsClient } from './support/tencent-client';

/** Sub-users with policies: allow, deny, wildcards, resource names; root credentials see only their account. */

interface SubUser {
  SubUin: string;
  Uin: string;
  SecretId: string;
  SecretKey: string;
}

let kms: KmsService;
let root: Credential;
let dir: string;
const DENIED = 'UnauthorizedOperation';

beforeAll(async () => {
  kms = await KmsService.start({ workers: 2 });
  root = await kms.createAccount('owner');
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kms-policy-'));
});
afterAll(() => kms.stop());

function policyFile(name: string, statement: unknown[]): string {
  const f = path.join(dir, `${name}.json`);
  fs.writeFileSync(f, JSON.stringify({ version: '2.0', statement }));
  return f;
}
const createUser = (name: string, policy?: string) => kms.cli<SubUser>('user', 'create', '--account', root.Uin, '--name', name, ...(policy ? ['--policy', policy] : []));
const res = (keyId = '*', creator = '*', region = 'ap-guangzhou') => `qcs::kms:${region}:${root.Uin}:key/creatorUin/${creator}/${keyId}`;

it('gives a sub-user without a policy no rights at all', async () => {
  const u = await createUser('nobody');
  expect(u.Uin).toBe(root.Uin);
  expect(u.SubUin).toMatch(/^\d{12}$/);
  const c = kmsClient(kms.endpoint, u);
  expect(await codeOf(c.ListKeys({}))).toBe(DENIED);
  expect(await codeOf(c.CreateKey({ Alias: 'nope' }))).toBe(DENIED);
  expect(await codeOf(c.GenerateRandom({ NumberOfBytes: 8 }))).toBe(DENIED);
  expect(await codeOf(c.GetRegions())).toBe(DENIED);
});

it('name/kms:* on * gives a sub-user everything in its account, and keys record their creator', async () => {
  const u = await createUser('admin', policyFile('all', [{ effect: 'allow', action: ['name/kms:*'], resource: '*' }]));
  const c = kmsClient(kms.endpoint, u);
  const k = await c.CreateKey({ Alias: 'made-by-sub' });
  const md = (await kmsClient(kms.endpoint, root).DescribeKey({ KeyId: k.KeyId! })).KeyMetadata!;
  expect(md.CreatorUin).toBe(Number(u.SubUin));
  expect(md.ResourceId).toBe(`creatorUin/${u.SubUin}/${k.KeyId}`);
  const blob = (await c.Encrypt({ KeyId: k.KeyId!, Plaintext: b64('x') })).CiphertextBlob!;
  expect(Buffer.from((await kmsClient(kms.endpoint, root).Decrypt({ CiphertextBlob: blob })).Plaintext!, 'base64').toString()).toBe('x');
  // Still nothing of another account.
  const stranger = await kms.createAccount('stranger');
  const theirs = (await kmsClient(kms.endpoint, stranger).CreateKey({ Alias: 'theirs' })).KeyId!;
  expect(await codeOf(c.DescribeKey({ KeyId: theirs }))).toBe('ResourceUnavailable.CmkNotFound');
});

it('deny wins over allow, and actions and resources take wildcards', async () => {
  const keyA = (await kmsClient(kms.endpoint, root).CreateKey({ Alias: 'pol-a' })).KeyId!;
  const keyB = (await kmsClient(kms.endpoint, root).CreateKey({ Alias: 'pol-b' })).KeyId!;
  const blobA = (await kmsClient(kms.endpoint, root).Encrypt({ KeyId: keyA, Plaintext: b64('a') })).CiphertextBlob!;
  const blobB = (await kmsClient(kms.endpoint, root).Encrypt({ KeyId: keyB, Plaintext: b64('b') })).CiphertextBlob!;
  const u = await createUser(
    'data-only',
    policyFile('data', [
      { effect: 'allow', action: 'name/kms:*', resource: res() },
      { effect: 'deny', action: ['name/kms:Disable*', 'name/kms:Schedule*'], resource: '*' },
      { effect: 'deny', action: 'name/kms:Decrypt', resource: res(keyB) },
    ]),
  );
  const c = kmsClient(kms.endpoint, u);
  expect(await codeOf(c.Encrypt({ KeyId: keyA, Plaintext: b64('x') }))).toBe('OK');
  expect(await codeOf(c.Decrypt({ CiphertextBlob: blobA }))).toBe('OK');
  expect(await codeOf(c.Decrypt({ CiphertextBlob: blobB }))).toBe(DENIED);
  expect(await codeOf(c.Encrypt({ KeyId: keyB, Plaintext: b64('x') }))).toBe('OK');
  expect(await codeOf(c.DisableKey({ KeyId: keyA }))).toBe(DENIED);
  expect(await codeOf(c.DisableKeys({ KeyIds: [keyA] }))).toBe(DENIED);
  expect(await codeOf(c.ScheduleKeyDeletion({ KeyId: keyA, PendingWindowInDays: 7 }))).toBe(DENIED);
  expect(await codeOf(c.DescribeKeys({ KeyIds: [keyA, keyB] }))).toBe('OK');
  // Per-key resources do not cover account-wide actions such as CreateKey and ListKeys.
  expect(await codeOf(c.CreateKey({ Alias: 'x' }))).toBe(DENIED);
  expect(await codeOf(c.ListKeys({}))).toBe(DENIED);
  // The policy's region is part of the resource.
  expect(await codeOf(kmsClient(kms.endpoint, u, { region: 'ap-shanghai' }).GenerateRandom({ NumberOfBytes: 4 }))).toBe(DENIED);
});

it('limits a sub-user to the keys of one creator, and set-policy takes effect within a second', async () => {
  const maker = await createUser('maker', policyFile('maker', [{ effect: 'allow', action: ['name/kms:CreateKey', 'name/kms:Encrypt'], resource: '*' }]));
  const mine = (await kmsClient(kms.endpoint, maker).CreateKey({ Alias: 'makers' })).KeyId!;
  const rootKey = (await kmsClient(kms.endpoint, root).CreateKey({ Alias: 'roots' })).KeyId!;
  const reader = await createUser('reader', policyFile('reader', [{ effect: 'allow', action: 'kms:DescribeKey', resource: res('*', maker.SubUin) }]));
  const r = kmsClient(kms.endpoint, reader);
  expect(await codeOf(r.DescribeKey({ KeyId: mine }))).toBe('OK');
  expect(await codeOf(r.DescribeKey({ KeyId: rootKey }))).toBe(DENIED);
  expect(await codeOf(r.Encrypt({ KeyId: mine, Plaintext: b64('x') }))).toBe(DENIED);

  const out = await kms.cli<{ PolicyUpdated: boolean }>('user', 'set-policy', '--user', reader.SubUin, '--policy', policyFile('reader2', [{ effect: 'allow', action: 'name/kms:Encrypt', resource: res(mine) }]));
  expect(out.PolicyUpdated).toBe(true);
  const start = Date.now();
  while ((await codeOf(r.Encrypt({ KeyId: mine, Plaintext: b64('x') }))) !== 'OK' && Date.now() - start < 3000) await new Promise((s) => setTimeout(s, 50));
  expect(Date.now() - start).toBeLessThan(1000);
  expect(await codeOf(r.DescribeKey({ KeyId: mine }))).toBe(DENIED);
});

it('refuses malformed policies and unknown users clearly, and never prints a SecretKey twice', async () => {
  const fail = (...args: string[]) => kmsCli(kms.env, ...args);
  const bad = path.join(dir, 'bad.json');
  for (const [doc, msg] of [
    ['not json', /not valid JSON/],
    ['{"version":"1.0","statement":[]}', /version/],
    ['{"version":"2.0","statement":[{"effect":"maybe","action":"name/kms:*","resource":"*"}]}', /effect/],
    ['{"version":"2.0","statement":[{"effect":"allow","action":"name/cvm:*","resource":"*"}]}', /name\/kms/],
    ['{"version":"2.0","statement":[{"effect":"allow","action":"name/kms:*","resource":"arn:aws:kms"}]}', /resource/],
    ['{"version":"2.0","statement":[{"effect":"allow","action":"name/kms:*","resource":"*","condition":{}}]}', /conditions are not supported/],
  ] as Array<[string, RegExp]>) {
    fs.writeFileSync(bad, doc);
    const r = await fail('user', 'create', '--account', root.Uin, '--name', 'bad', '--policy', bad);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(msg);
  }
  expect((await fail('user', 'set-policy', '--user', '999999999999', '--policy', policyFile('ok', []))).stderr).toMatch(/no sub-user 999999999999/);
  expect((await fail('user', 'create', '--account', '999', '--name', 'x')).stderr).toMatch(/no account 999/);
  expect((await fail('user', 'create', '--account', root.Uin, '--name', 'x', '--policy', '/no/such/file')).code).toBe(2);
});

describe('ReEncrypt needs the rights of the Decrypt and Encrypt it does', () => {
  it('refuses ReEncrypt from a key the caller may not decrypt with, and to one it may not encrypt with', async () => {
    const rootClient = kmsClient(kms.endpoint, root);
    const newKey = async (Alias: string) => (await rootClient.CreateKey({ Alias })).KeyId!;
    const [a, b, c] = [await newKey('re-a'), await newKey('re-b'), await newKey('re-c')];
    const blobOf = async (KeyId: string) => (await rootClient.Encrypt({ KeyId, Plaintext: b64('secret') })).CiphertextBlob!;
    const [blobA, blobC] = [await blobOf(a), await blobOf(c)];
    const u = kmsClient(
      kms.endpoint,
      await createUser(
        're-guarded',
        policyFile('re-guarded', [
          { effect: 'allow', action: 'name/kms:*', resource: '*' },
          { effect: 'deny', action: 'name/kms:Decrypt', resource: res(a) },
          { effect: 'deny', action: 'name/kms:Encrypt', resource: res(c) },
        ]),
      ),
    );
    expect(await codeOf(u.Decrypt({ CiphertextBlob: blobA }))).toBe(DENIED);
    // The bypass: re-encrypt A's blob to B, then decrypt it there.
    expect(await codeOf(u.ReEncrypt({ CiphertextBlob: blobA, DestinationKeyId: b }))).toBe(DENIED);
    expect(await codeOf(u.ReEncrypt({ CiphertextBlob: blobA }))).toBe(DENIED);
    // The other direction: a key the caller may not encrypt with takes no re-encrypted blob.
    const blobB = await blobOf(b);
    expect(await codeOf(u.Encrypt({ KeyId: c, Plaintext: b64('x') }))).toBe(DENIED);
    expect(await codeOf(u.ReEncrypt({ CiphertextBlob: blobB, DestinationKeyId: c }))).toBe(DENIED);
    expect(await codeOf(u.ReEncrypt({ CiphertextBlob: blobC }))).toBe(DENIED);
    // Both allowed: it works, and the result decrypts.
    const r = await u.ReEncrypt({ CiphertextBlob: blobC, DestinationKeyId: b });
    expect(r).toMatchObject({ KeyId: b, SourceKeyId: c, ReEncrypted: true });
    expect(Buffer.from((await u.Decrypt({ CiphertextBlob: r.CiphertextBlob! })).Plaintext!, 'base64').toString()).toBe('secret');
  });

  it('needs an allow of Decrypt on the source, not only the absence of a deny', async () => {
    const rootClient = kmsClient(kms.endpoint, root);
    const a = (await rootClient.CreateKey({ Alias: 're-implicit-a' })).KeyId!;
    const b = (await rootClient.CreateKey({ Alias: 're-implicit-b' })).KeyId!;
    const blobA = (await rootClient.Encrypt({ KeyId: a, Plaintext: b64('secret') })).CiphertextBlob!;
    const u = kmsClient(
      kms.endpoint,
      await createUser(
        're-implicit',
        policyFile('re-implicit', [
          { effect: 'allow', action: 'name/kms:ReEncrypt', resource: '*' },
          { effect: 'allow', action: ['name/kms:Encrypt', 'name/kms:Decrypt'], resource: res(b) },
        ]),
      ),
    );
    expect(await codeOf(u.ReEncrypt({ CiphertextBlob: blobA, DestinationKeyId: b }))).toBe(DENIED);
  });
});

describe('policies naming no action of the API', () => {

  it.each([
    ['name/kms:decrypt', 1],
    ['name/kms:DecryptData', 0],
    ['kms:Foo*', 1],
    ['name/kms:*Data', 0],
  ])('refuses %s when a policy is stored, naming it, with a non-zero exit', async (bad, index) => {
    const good = 'name/kms:Encrypt';
    const statement = [{ effect: 'deny', action: index === 0 ? [bad, good] : [good, bad], resource: '*' }, { effect: 'allow', action: 'name/kms:*', resource: '*' }];
    const file = policyFile(`bad-${bad.replace(/\W/g, '_')}`, statement);
    const created = await kmsCli(kms.env, 'user', 'create', '--account', root.Uin, '--name', 'misspelt', '--policy', file);
    expect(created.code).not.toBe(0);
    expect(created.stderr).toContain(`statement 0: action "${bad}" matches no action of the API`);
    expect(created.stdout).toBe('');

    const u = await createUser('to-be-set', policyFile('deny-decrypt', [{ effect: 'allow', action: 'name/kms:Encrypt', resource: '*' }]));
    const set = await kmsCli(kms.env, 'user', 'set-policy', '--user', u.SubUin, '--policy', file);
    expect(set.code).not.toBe(0);
    expect(set.stderr).toContain(`action "${bad}" matches no action of the API`);
    // The refused policy was not stored: the old one still holds.
    const key = (await kmsClient(kms.endpoint, root).CreateKey({ Alias: `kept-${index}-${bad.length}` })).KeyId!;
    expect(await codeOf(kmsClient(kms.endpoint, u).DescribeKey({ KeyId: key }))).toBe(DENIED);
  });

  it('takes exact names, and wildcards that match at least one action', async () => {
    const file = policyFile('wildcards', [
      { effect: 'allow', action: ['name/kms:Get*', 'kms:*Key', 'name/kms:ReEncrypt', '*'], resource: '*' },
      { effect: 'deny', action: 'name/kms:*', resource: res('00000000-0000-4000-8000-000000000000') },
    ]);
    const u = await kmsCli(kms.env, 'user', 'create', '--account', root.Uin, '--name', 'wild', '--policy', file);
    expect(u.stderr).toBe('');
    expect(u.code).toBe(0);
  });
});

describe('what a refused sub-user learns', () => {
  const messageOf = async (p: Promise<unknown>): Promise<{ code: string; message: string }> => {
    try {
      await p;
      return { code: 'OK', message: '' };
    } catch (e) {
      return { code: (e as { code: string }).code, message: (e as Error).message };
    }
  };

  it('names neither the key nor its creator, and answers alike whether or not the key exists', async () => {
    const owner = kmsClient(kms.endpoint, root);
    const KeyId = (await owner.CreateKey({ Alias: 'not-yours' })).KeyId!;
    // Allowed one other key only: no creator's key with these ids could be allowed.
    const mine = (await owner.CreateKey({ Alias: 'yours' })).KeyId!;
    const u = await createUser('one-key-only', policyFile('one', [{ effect: 'allow', action: ['name/kms:*'], resource: [res(mine, '*')] }]));
    const c = kmsClient(kms.endpoint, u);
    const unknown = '6b0d1f6e-0000-4000-8000-000000000000';
    for (const call of [(id: string) => c.DescribeKey({ KeyId: id }), (id: string) => c.Encrypt({ KeyId: id, Plaintext: b64('x') }), (id: string) => c.DisableKey({ KeyId: id })]) {
      const existing = await messageOf(call(KeyId));
      const missing = await messageOf(call(unknown));
      expect(existing.code).toBe(DENIED);
      expect(missing.code).toBe(DENIED);
      expect(existing.message).toBe(missing.message);
      expect(existing.message).not.toContain(KeyId);
      expect(existing.message).not.toContain(root.Uin);
    }
  });

  it('tells CmkNotFound to a sub-user whose policy could allow the action on that id', async () => {
    const u = await createUser('any-creator', policyFile('any', [{ effect: 'allow', action: ['name/kms:DescribeKey'], resource: [res('*', '*')] }, { effect: 'deny', action: ['name/kms:*'], resource: [res('*', root.Uin)] }]));
    const c = kmsClient(kms.endpoint, u);
    expect(await codeOf(c.DescribeKey({ KeyId: '6b0d1f6e-0000-4000-8000-000000000001' }))).toBe('ResourceUnavailable.CmkNotFound');
    // Denied for every creator: the same refusal for an unknown id as for a known one.
    const none = await createUser('denied-all', policyFile('deny-all', [{ effect: 'allow', action: ['name/kms:*'], resource: ['*'] }, { effect: 'deny', action: ['name/kms:DescribeKey'], resource: [res('*', '*')] }]));
    expect(await codeOf(kmsClient(kms.endpoint, none).DescribeKey({ KeyId: '6b0d1f6e-0000-4000-8000-000000000002' }))).toBe(DENIED);
  });
});

it('answers ReEncrypt alike for a known and an unknown key when Decrypt or Encrypt on it is denied', async () => {
  const owner = kmsClient(kms.endpoint, root);
  const a = (await owner.CreateKey({ Alias: 're-exists-a' })).KeyId!;
  const b = (await owner.CreateKey({ Alias: 're-exists-b' })).KeyId!;
  const blobA = (await owner.Encrypt({ KeyId: a, Plaintext: b64('x') })).CiphertextBlob!;
  const u = kmsClient(kms.endpoint, await createUser('re-no-decrypt', policyFile('re-no-decrypt', [{ effect: 'allow', action: 'name/kms:*', resource: '*' }, { effect: 'deny', action: ['name/kms:Decrypt', 'name/kms:Encrypt'], resource: res('*', '*') }])));
  // A blob naming a key id that does not exist: the same refusal as for A's real blob.
  const unknownId = '6b0d1f6e-0000-4000-8000-0000000000aa';
  const forged = Buffer.from(blobA, 'base64');
  Buffer.from(unknownId.replace(/-/g, ''), 'hex').copy(forged, 3);
  expect(await codeOf(u.ReEncrypt({ CiphertextBlob: blobA, DestinationKeyId: b }))).toBe(DENIED);
  expect(await codeOf(u.ReEncrypt({ CiphertextBlob: forged.toString('base64'), DestinationKeyId: b }))).toBe(DENIED);
});

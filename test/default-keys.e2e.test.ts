import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { auditList } from './support/audit-db';
import { Credential, KmsService, kmsCli } from './support/kms-service';
import { b64, codeOf, kmsClient } from './support/tencent-client';

/**
 * Default keys (`kms key create-default`): callers use them but cannot disable, delete, rename
 * or re-describe them, through any right; they are outside the CMK quota. Seen here through the
 * Tencent-compatible face, which answers UnsupportedOperation.NotUserCreatedCmk.
 */

let kms: KmsService;
let root: Credential;
let dir: string;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kms-default-keys-'));
  kms = await KmsService.start({ env: { KMS_CMK_QUOTA: '2' } });
  root = await kms.createAccount('defaults');
});
afterAll(async () => {
  await kms.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

interface Made {
  KeyId: string;
  Uin: string;
  Region: string;
  Alias: string;
}
const cli = (...args: string[]) => kmsCli(kms.env, ...args);
const makeDefault = (alias: string, region = 'ap-guangzhou', uin = root.Uin) => kms.cli<Made>('key', 'create-default', '--account', uin, '--region', region, '--alias', alias);
const c = (cred: Credential = root) => kmsClient(kms.endpoint, cred);
const REFUSED = 'UnsupportedOperation.NotUserCreatedCmk';

describe('kms key create-default', () => {
  it('makes an enabled key with the alias in the region, that encrypts and decrypts', async () => {
    const k = await makeDefault('obs/default');
    expect(k).toEqual({ KeyId: expect.stringMatching(/^[0-9a-f-]{36}$/), Uin: root.Uin, Region: 'ap-guangzhou', Alias: 'obs/default' });
    const meta = (await c().DescribeKey({ KeyId: k.KeyId })).KeyMetadata!;
    expect(meta).toMatchObject({ Alias: 'obs/default', KeyState: 'Enabled', Origin: 'KMS' });
    const blob = (await c().Encrypt({ KeyId: k.KeyId, Plaintext: b64('default data') })).CiphertextBlob!;
    expect(Buffer.from((await c().Decrypt({ CiphertextBlob: blob })).Plaintext!, 'base64').toString()).toBe('default data');
    expect((await c().GenerateDataKey({ KeyId: k.KeyId, KeySpec: 'AES_256' })).CiphertextBlob).toBeTruthy();
    // Another region's key of the same service is another key.
    const sh = await makeDefault('obs/default', 'ap-shanghai');
    expect(sh.KeyId).not.toBe(k.KeyId);
    expect(await codeOf(c().DescribeKey({ KeyId: sh.KeyId }))).toBe('ResourceUnavailable.CmkNotFound');
  });

  it('refuses a taken alias, an alias that is not <service>/default, an unknown region or account', async () => {
    await makeDefault('evs/default');
    const cases: Array<[string[], string]> = [
      [['--account', root.Uin, '--region', 'ap-guangzhou', '--alias', 'evs/default'], 'alias evs/default is in use'],
      [['--account', root.Uin, '--region', 'ap-guangzhou', '--alias', 'obs-key'], "a default key's alias is <service>/default"],
      [['--account', root.Uin, '--region', 'ap-guangzhou', '--alias', '/default'], "a default key's alias is <service>/default"],
      [['--account', root.Uin, '--region', 'mars-1', '--alias', 'ims/default'], 'region mars-1 is not served here'],
      [['--account', '199999999999', '--region', 'ap-guangzhou', '--alias', 'ims/default'], 'no account 199999999999'],
    ];
    for (const [args, message] of cases) {
      const r = await cli('key', 'create-default', ...args);
      expect({ args, code: r.code, stdout: r.stdout }).toEqual({ args, code: 1, stdout: '' });
      expect(r.stderr).toContain(message);
    }
    for (const missing of ['--account', '--region', '--alias']) {
      const args = ['--account', root.Uin, '--region', 'ap-guangzhou', '--alias', 'x/default'];
      args.splice(args.indexOf(missing), 2);
      const r = await cli('key', 'create-default', ...args);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(`missing ${missing}`);
    }
    // Nine CLI calls: on a loaded CI machine each took up to 7 s.
  }, 180_000);

  it('is recorded in the audit trail with the key it made', async () => {
    const k = await makeDefault('rds/default');
    const lines = await auditList(kms.env, '--action', 'key create-default');
    expect(lines.find((l) => l.keys.some((x) => x.keyId === k.KeyId))).toMatchObject({ face: 'cli', account: root.Uin, result: 'Success' });
  });
});

describe('a default key', () => {
  let key: string;
  let admin: Credential;
  beforeAll(async () => {
    key = (await makeDefault('kms-test/default')).KeyId;
    const policy = path.join(dir, 'all.json');
    fs.writeFileSync(policy, JSON.stringify({ version: '2.0', statement: [{ effect: 'allow', action: ['name/kms:*'], resource: '*' }] }));
    admin = await kms.cli<Credential>('user', 'create', '--account', root.Uin, '--name', 'admin', '--policy', policy);
  });

  it.each([
    ['DisableKey', () => c().DisableKey({ KeyId: key })],
    ['DisableKeys', () => c().DisableKeys({ KeyIds: [key] })],
    ['ArchiveKey', () => c().ArchiveKey({ KeyId: key })],
    ['ScheduleKeyDeletion', () => c().ScheduleKeyDeletion({ KeyId: key, PendingWindowInDays: 7 })],
    ['UpdateAlias', () => c().UpdateAlias({ KeyId: key, Alias: 'renamed' })],
    ['UpdateAlias to a taken alias', () => c().UpdateAlias({ KeyId: key, Alias: 'user-key' })],
    ['UpdateKeyDescription', () => c().UpdateKeyDescription({ KeyId: key, Description: 'changed' })],
    ['DisableKey by a sub-user allowed everything', () => c(admin).DisableKey({ KeyId: key })],
    ['ScheduleKeyDeletion by a sub-user allowed everything', () => c(admin).ScheduleKeyDeletion({ KeyId: key, PendingWindowInDays: 30 })],
  ])('refuses %s', async (_name, call) => {
    if (!(await c().ListKeyDetail({ SearchKeyAlias: 'user-key' })).TotalCount) await c().CreateKey({ Alias: 'user-key' });
    expect(await codeOf(call())).toBe(REFUSED);
    expect((await c().DescribeKey({ KeyId: key })).KeyMetadata).toMatchObject({ KeyState: 'Enabled', Alias: 'kms-test/default', Description: '' });
  });

  it('refuses a batch that names it with other keys, and changes none of them', async () => {
    const other = (await c().CreateKey({ Alias: 'batch-mate' })).KeyId!;
    expect(await codeOf(c().DisableKeys({ KeyIds: [other, key] }))).toBe(REFUSED);
    expect((await c().DescribeKey({ KeyId: other })).KeyMetadata!.KeyState).toBe('Enabled');
  });

  it('may be enabled (it already is) and used by a sub-user', async () => {
    expect(await codeOf(c().EnableKey({ KeyId: key }))).toBe('OK');
    expect(await codeOf(c(admin).Encrypt({ KeyId: key, Plaintext: b64('x') }))).toBe('OK');
  });
});

it('works in a service that has written the token since the CLI made it', async () => {
  // The service lists the token's objects, the CLI makes a key, the service makes one: the
  // service must still find the CLI's (SoftHSM forgets it unless the writer lists first).
  const acct = await kms.createAccount('writers');
  const first = await makeDefault('first/default', 'ap-guangzhou', acct.Uin);
  expect(await codeOf(c(acct).Encrypt({ KeyId: first.KeyId, Plaintext: b64('x') }))).toBe('OK');
  const made = await makeDefault('later/default', 'ap-guangzhou', acct.Uin);
  await c(acct).CreateKey({ Alias: 'made-by-the-service' });
  expect(await codeOf(c(acct).Encrypt({ KeyId: made.KeyId, Plaintext: b64('x') }))).toBe('OK');
});

describe('the CMK quota', () => {
  it('does not count default keys', async () => {
    const acct = await kms.createAccount('quota');
    for (const s of ['a', 'b', 'd']) await makeDefault(`${s}/default`, 'ap-guangzhou', acct.Uin);
    expect(await codeOf(c(acct).CreateKey({ Alias: 'one' }))).toBe('OK');
    expect(await codeOf(c(acct).CreateKey({ Alias: 'two' }))).toBe('OK');
    expect(await codeOf(c(acct).CreateKey({ Alias: 'three' }))).toBe('LimitExceeded.CmkLimitExceeded');
    // The operator's default keys are made whatever the quota says.
    expect((await makeDefault('e/default', 'ap-guangzhou', acct.Uin)).Alias).toBe('e/default');
  });
});

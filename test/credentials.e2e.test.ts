import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Credential, KmsService, kmsCli } from './support/kms-service';
import { codeOf, kmsClient } from './support/tencent-client';
import { msUntil } from './support/wait';
import { setTestClock } from './support/test-clock';

/**
 * Credential lifecycle: list, disable/enable/delete a credential, delete a sub-user, disable
 * an account. Two instances share one database and token: a change made with the CLI must
 * stop (or restore) the credential on the other instance within a second, for TC3 and v1.
 */

const NOT_FOUND = 'AuthFailure.SecretIdNotFound';

let a: KmsService;
let b: KmsService;
let work: string;
let clockFile: string;

interface Listed {
  SecretId: string;
  SubUin: string | null;
  Status: string;
  CreatedAt: number;
  LastUsedAt: number | null;
}
interface NewUser extends Credential {
  SubUin: string;
}

beforeAll(async () => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'kms-credentials-'));
  clockFile = path.join(work, 'clock');
  fs.writeFileSync(clockFile, '0');
  a = await KmsService.start({ workers: 2, env: { KMS_TEST_CLOCK_FILE: clockFile } });
  b = await KmsService.start({ workers: 2, shareWith: a });
});
afterAll(async () => {
  await b.stopProcess();
  await a.stop();
  fs.rmSync(work, { recursive: true, force: true });
});

/** The CLI on the shared data, whatever its exit code. */
const cli = (...args: string[]) => kmsCli(a.env, ...args);
const list = async (uin: string) => a.cli<Listed[]>('credential', 'list', '--account', uin);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * The answer of instance B to a signed call, with TC3 or v1. Each call is another request (its
 * own Offset): the SDK draws the v1 Nonce from 65536 values, and the same request with the same
 * Nonce in the same second is a replay.
 */
let calls = 0;
const onB = (cred: Credential, signMethod: 'TC3-HMAC-SHA256' | 'HmacSHA256' = 'TC3-HMAC-SHA256') => codeOf(kmsClient(b.endpoint, cred, { signMethod }).ListKeys({ Offset: calls++ }));

/** Milliseconds until `check` holds (polled every 50 ms), or Infinity after 3 s. */
/** Both of instance B's workers have the credential (and its TC3 signing key) cached. */
async function warm(...creds: Credential[]): Promise<void> {
  for (const c of creds) for (let i = 0; i < 6; i++) expect(await onB(c, i % 2 ? 'HmacSHA256' : 'TC3-HMAC-SHA256')).toBe('OK');
}

describe('credential list', () => {
  it("shows every credential of the account, sub-users' included, without any SecretKey", async () => {
    const root = await a.createAccount('lister');
    const second = await a.cli<Credential>('credential', 'create', '--account', root.Uin);
    const user = await a.cli<NewUser>('user', 'create', '--account', root.Uin, '--name', 'bot');
    const r = await cli('credential', 'list', '--account', root.Uin);
    expect(r.code).toBe(0);
    for (const c of [root, second, user]) expect(r.stdout).not.toContain(c.SecretKey);
    const rows = JSON.parse(r.stdout) as Listed[];
    expect(rows.map((x) => Object.keys(x).sort())).toEqual(Array(3).fill(['CreatedAt', 'ExpiresAt', 'Kind', 'LastUsedAt', 'SecretId', 'Status', 'SubUin']));
    expect(rows.map((x) => x.SecretId).sort()).toEqual([root.SecretId, second.SecretId, user.SecretId].sort());
    const now = Math.floor(Date.now() / 1000);
    for (const x of rows) {
      expect(x).toMatchObject({ Status: 'Active', LastUsedAt: null, SubUin: x.SecretId === user.SecretId ? user.SubUin : null });
      expect(Math.abs(x.CreatedAt - now)).toBeLessThan(60);
    }
    // Another account's list holds none of these.
    const other = await a.createAccount('other-lister');
    expect((await list(other.Uin)).map((x) => x.SecretId)).toEqual([other.SecretId]);
  });
});

describe('credential disable, enable and delete', () => {
  it('refuse a disabled credential with SecretIdNotFound on the other instance within a second, and enable restores it', async () => {
    const root = await a.createAccount('toggled');
    const spare = await a.cli<Credential>('credential', 'create', '--account', root.Uin);
    await warm(root, spare);

    expect(await a.cli('credential', 'disable', '--secret-id', root.SecretId)).toEqual({ SecretId: root.SecretId, Status: 'Disabled' });
    expect(await msUntil(async () => (await onB(root)) === NOT_FOUND, 3000, 50)).toBeLessThan(1000);
    // Every worker, both signature styles; the account's other credential still works.
    for (let i = 0; i < 4; i++) expect(await onB(root, i % 2 ? 'HmacSHA256' : 'TC3-HMAC-SHA256')).toBe(NOT_FOUND);
    expect(await codeOf(kmsClient(a.endpoint, root).ListKeys({}))).toBe(NOT_FOUND);
    expect(await onB(spare)).toBe('OK');
    expect((await list(root.Uin)).find((x) => x.SecretId === root.SecretId)?.Status).toBe('Disabled');

    expect(await a.cli('credential', 'enable', '--secret-id', root.SecretId)).toEqual({ SecretId: root.SecretId, Status: 'Active' });
    expect(await msUntil(async () => (await onB(root)) === 'OK', 3000, 50)).toBeLessThan(1000);
    for (let i = 0; i < 4; i++) expect(await onB(root, i % 2 ? 'HmacSHA256' : 'TC3-HMAC-SHA256')).toBe('OK');
  });

  it('refuses a deleted credential everywhere within a second and drops it from the list', async () => {
    const root = await a.createAccount('deleted');
    const doomed = await a.cli<Credential>('credential', 'create', '--account', root.Uin);
    await warm(doomed);
    expect(await a.cli('credential', 'delete', '--secret-id', doomed.SecretId)).toEqual({ SecretId: doomed.SecretId, Deleted: true });
    expect(await msUntil(async () => (await onB(doomed)) === NOT_FOUND, 3000, 50)).toBeLessThan(1000);
    for (let i = 0; i < 4; i++) expect(await onB(doomed, i % 2 ? 'HmacSHA256' : 'TC3-HMAC-SHA256')).toBe(NOT_FOUND);
    expect(await onB(root)).toBe('OK');
    expect((await list(root.Uin)).map((x) => x.SecretId)).toEqual([root.SecretId]);
  });
});

describe('user delete', () => {
  // Nine CLI runs: a loaded CI machine took up to 7 s for one (default-keys.e2e), hence 180 s.
  it('deletes the sub-user and every credential it has, on every instance within a second', async () => {
    const root = await a.createAccount('with-users');
    const policy = path.join(work, 'all.json');
    fs.writeFileSync(policy, JSON.stringify({ version: '2.0', statement: [{ effect: 'allow', action: 'name/kms:*', resource: '*' }] }));
    const user = await a.cli<NewUser>('user', 'create', '--account', root.Uin, '--name', 'leaver', '--policy', policy);
    const keeper = await a.cli<NewUser>('user', 'create', '--account', root.Uin, '--name', 'keeper', '--policy', policy);
    await warm(user, keeper);

    expect(await a.cli('user', 'delete', '--user', user.SubUin)).toEqual({ SubUin: user.SubUin, Deleted: true, CredentialsDeleted: 1 });
    expect(await msUntil(async () => (await onB(user)) === NOT_FOUND, 3000, 50)).toBeLessThan(1000);
    for (let i = 0; i < 4; i++) expect(await onB(user, i % 2 ? 'HmacSHA256' : 'TC3-HMAC-SHA256')).toBe(NOT_FOUND);
    expect(await onB(keeper)).toBe('OK');
    expect(await onB(root)).toBe('OK');
    expect((await list(root.Uin)).map((x) => x.SecretId).sort()).toEqual([root.SecretId, keeper.SecretId].sort());
    // The sub-user is gone: it can be neither changed nor deleted again.
    const again = await cli('user', 'delete', '--user', user.SubUin);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain(`no sub-user ${user.SubUin}`);
    expect((await cli('user', 'set-policy', '--user', user.SubUin, '--policy', policy)).stderr).toContain(`no sub-user ${user.SubUin}`);
  }, 180_000);
});

describe('account disable and enable', () => {
  it("stop every credential of the account, its sub-users' included, on every instance within a second", async () => {
    const root = await a.createAccount('suspended');
    const spare = await a.cli<Credential>('credential', 'create', '--account', root.Uin);
    const user = await a.cli<NewUser>('user', 'create', '--account', root.Uin, '--name', 'staff');
    const bystander = await a.createAccount('bystander');
    // A credential disabled on its own stays disabled when the account comes back.
    await a.cli('credential', 'disable', '--secret-id', spare.SecretId);
    // The sub-user has no policy: UnauthorizedOperation shows that it authenticates.
    const userCode = () => codeOf(kmsClient(b.endpoint, user).ListKeys({}));
    await warm(root, bystander);
    expect(await userCode()).toBe('UnauthorizedOperation');

    expect(await a.cli('account', 'disable', '--account', root.Uin)).toEqual({ Uin: root.Uin, Status: 'Disabled' });
    expect(await msUntil(async () => (await onB(root)) === NOT_FOUND && (await userCode()) === NOT_FOUND, 3000, 50)).toBeLessThan(1000);
    for (let i = 0; i < 4; i++) {
      expect(await onB(root, i % 2 ? 'HmacSHA256' : 'TC3-HMAC-SHA256')).toBe(NOT_FOUND);
      expect(await userCode()).toBe(NOT_FOUND);
    }
    expect(await onB(bystander)).toBe('OK');
    const accounts = await a.cli<Array<{ Uin: string; Status: string }>>('account', 'list');
    expect(accounts.find((x) => x.Uin === root.Uin)?.Status).toBe('Disabled');
    expect(accounts.find((x) => x.Uin === bystander.Uin)?.Status).toBe('Active');
    // A credential made while the account is disabled does not work either.
    const late = await a.cli<Credential>('credential', 'create', '--account', root.Uin);
    expect(await onB(late)).toBe(NOT_FOUND);

    expect(await a.cli('account', 'enable', '--account', root.Uin)).toEqual({ Uin: root.Uin, Status: 'Active' });
    expect(await msUntil(async () => (await onB(root)) === 'OK' && (await userCode()) === 'UnauthorizedOperation', 3000, 50)).toBeLessThan(1000);
    expect(await msUntil(async () => (await onB(late)) === 'OK', 3000, 50)).toBeLessThan(3000);
    expect(await onB(spare)).toBe(NOT_FOUND);
  });
});

describe('LastUsedAt', () => {
  const setClock = (seconds: number) => setTestClock(clockFile, seconds);
  const lastUsed = async (cred: Credential) => (await list(cred.Uin)).find((x) => x.SecretId === cred.SecretId)!.LastUsedAt;
  /** LastUsedAt once it has changed from `before` (written in the background, within a few seconds). */
  async function changed(cred: Credential, before: number | null): Promise<number | null> {
    for (let i = 0; i < 10; i++) {
      const v = await lastUsed(cred);
      if (v !== before) return v;
      await sleep(500);
    }
    return before;
  }

  afterEach(() => setClock(0));

  it('is set by a use, then kept to the minute without a write per request', async () => {
    const root = await a.createAccount('used');
    expect(await lastUsed(root)).toBeNull();
    // A request with a wrong signature is no use.
    expect(await codeOf(kmsClient(b.endpoint, { SecretId: root.SecretId, SecretKey: 'not-the-key' }).ListKeys({}))).toBe('AuthFailure.SignatureFailure');

    const t0 = Math.floor(Date.now() / 1000);
    expect(await onB(root)).toBe('OK');
    const first = await changed(root, null);
    expect(first).not.toBeNull();
    expect(Math.abs(first! - t0)).toBeLessThanOrEqual(2);

    // Many uses on every worker of both instances, 45 seconds later on the service clock
    // (plus the few real seconds this test takes): no process writes again within the minute.
    await setClock(45);
    for (let i = 0; i < 20; i++) {
      expect(await onB(root, i % 2 ? 'HmacSHA256' : 'TC3-HMAC-SHA256')).toBe('OK');
      expect(await codeOf(kmsClient(a.endpoint, root).ListKeys({}))).toBe('OK');
    }
    await sleep(2500);
    expect(await lastUsed(root)).toBe(first);

    // A minute on, the next use is recorded.
    await setClock(61);
    // The use's own time, not the poll's: the background write may take seconds on a loaded machine.
    const usedAt = Math.floor(Date.now() / 1000) + 61;
    expect(await onB(root)).toBe('OK');
    const later = await changed(root, first);
    expect(later! - first!).toBeGreaterThanOrEqual(60);
    expect(Math.abs(later! - usedAt)).toBeLessThanOrEqual(3);
  });
});

describe('CLI errors', () => {
  it('name the unknown credential, account or sub-user and exit non-zero', async () => {
    const unknownId = 'AKID' + 'x'.repeat(32);
    for (const verb of ['disable', 'enable', 'delete']) {
      const r = await cli('credential', verb, '--secret-id', unknownId);
      expect(r).toMatchObject({ code: 1, stdout: '' });
      expect(r.stderr).toBe(`kms: no credential ${unknownId}\n`);
    }
    for (const args of [['credential', 'list'], ['account', 'disable'], ['account', 'enable']]) {
      const r = await cli(...args, '--account', '100000000999');
      expect(r).toMatchObject({ code: 1, stdout: '' });
      expect(r.stderr).toBe('kms: no account 100000000999\n');
    }
    const r = await cli('user', 'delete', '--user', '100000000999');
    expect(r).toMatchObject({ code: 1, stderr: 'kms: no sub-user 100000000999\n' });
  });

  it('refuse a missing flag with the usage and exit code 2', async () => {
    for (const [args, missing] of [
      [['credential', 'list'], '--account'],
      [['credential', 'disable'], '--secret-id'],
      [['credential', 'enable', '--secret-id'], '--secret-id'],
      [['credential', 'delete'], '--secret-id'],
      [['user', 'delete'], '--user'],
      [['account', 'disable'], '--account'],
      [['account', 'enable'], '--account'],
    ] as Array<[string[], string]>) {
      const r = await cli(...args);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(`kms: missing ${missing}`);
      expect(r.stderr).toContain('kms credential disable --secret-id ID');
    }
  });
});

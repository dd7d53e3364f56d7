import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { auditList, sql, waitForRecords } from './support/audit-db';
import { Credential, KmsService, kmsCli } from './support/kms-service';
import { setTestClock } from './support/test-clock';

/**
 * `kms iam-token create`: the token it prints, how long it lasts, what the database keeps of it
 * (a digest, never the token), how the credential commands see it, and its audit record.
 * Using tokens over HTTP is tested with the face that takes them.
 */

let kms: KmsService;
let work: string;
let clockFile: string;
let root: Credential;

interface Issued {
  Token: string;
  ExpiresAt: string;
}
interface Listed {
  SecretId: string;
  Kind: string;
  SubUin: string | null;
  Status: string;
  CreatedAt: number;
  LastUsedAt: number | null;
  ExpiresAt: number | null;
}

beforeAll(async () => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'kms-iam-tokens-'));
  clockFile = path.join(work, 'clock');
  // Ten days ahead: the token's expiry follows the service's clock, not the wall clock.
  fs.writeFileSync(clockFile, String(10 * 86_400));
  kms = await KmsService.start({ env: { KMS_TEST_CLOCK_FILE: clockFile, KMS_JOB_INTERVAL_MS: '100' } });
  root = await kms.createAccount('token-owner');
});
afterAll(async () => {
  await kms.stop();
  fs.rmSync(work, { recursive: true, force: true });
});

const cli = (...args: string[]) => kmsCli(kms.env, ...args);
const tokenId = (token: string) => token.split('.')[0];

describe('kms iam-token create', () => {
  it('prints a token and when it expires, 24 hours after issue by the service clock', async () => {
    const before = Date.now() + 10 * 86_400_000;
    const t = await kms.cli<Issued>('iam-token', 'create', '--account', root.Uin);
    expect(Object.keys(t).sort()).toEqual(['ExpiresAt', 'Token']);
    expect(t.Token).toMatch(/^KMST[A-Za-z0-9]{28}\.[A-Za-z0-9]{43}$/);
    expect(t.ExpiresAt).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
    const expires = Date.parse(t.ExpiresAt);
    expect(expires).toBeGreaterThanOrEqual(Math.floor(before / 1000) * 1000 + 86_400_000);
    expect(expires).toBeLessThanOrEqual(Date.now() + 10 * 86_400_000 + 86_400_000);
  });

  it('issues a different token each time', async () => {
    const [a, b] = await Promise.all([kms.cli<Issued>('iam-token', 'create', '--account', root.Uin), kms.cli<Issued>('iam-token', 'create', '--account', root.Uin)]);
    expect(a.Token).not.toBe(b.Token);
    expect(tokenId(a.Token)).not.toBe(tokenId(b.Token));
  });

  it('stores only a digest of the secret, never the token', async () => {
    const t = await kms.cli<Issued>('iam-token', 'create', '--account', root.Uin);
    const [id, secret] = t.Token.split('.');
    const rows = await sql<{ sealed_secret: string; kind: string; expires_at: string | number }>(kms.env, 'SELECT sealed_secret, kind, expires_at FROM credentials WHERE secret_id = $1', [id]);
    expect(rows).toHaveLength(1);
    expect(rows[0].kind).toBe('token');
    expect(rows[0].sealed_secret).toMatch(/^sha256:[A-Za-z0-9+/]{43}=$/);
    expect(rows[0].sealed_secret).not.toContain(secret);
    expect(Number(rows[0].expires_at) * 1000).toBe(Date.parse(t.ExpiresAt));
    if (!kms.env.KMS_DATABASE_URL) {
      // Nowhere in the SQLite files either (the WAL included).
      for (const f of fs.readdirSync(kms.env.KMS_DATA_DIR).filter((n) => n.startsWith('kms.sqlite'))) {
        expect(fs.readFileSync(path.join(kms.env.KMS_DATA_DIR, f)).includes(secret)).toBe(false);
      }
    }
    expect(kms.logs).not.toContain(secret);
  });

  it("issues a sub-user's token, and refuses a sub-user of another account", async () => {
    const user = await kms.cli<{ SubUin: string }>('user', 'create', '--account', root.Uin, '--name', 'reader');
    const t = await kms.cli<Issued>('iam-token', 'create', '--account', root.Uin, '--user', user.SubUin);
    const listed = (await kms.cli<Listed[]>('credential', 'list', '--account', root.Uin)).find((x) => x.SecretId === tokenId(t.Token));
    expect(listed).toMatchObject({ Kind: 'AccessToken', SubUin: user.SubUin, Status: 'Active' });

    const other = await kms.createAccount('someone-else');
    const r = await cli('iam-token', 'create', '--account', other.Uin, '--user', user.SubUin);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`no sub-user ${user.SubUin} in account ${other.Uin}`);
    expect(r.stdout).toBe('');
  });

  it('refuses an unknown account, and a command without --account', async () => {
    const r = await cli('iam-token', 'create', '--account', '199999999999');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('no account 199999999999');
    const u = await cli('iam-token', 'create');
    expect(u.code).toBe(2);
    expect(u.stderr).toContain('missing --account');
    expect((await cli('iam-token', 'create', '--account', root.Uin, '--user')).code).toBe(2);
  });
});

describe('the credential commands', () => {
  it('list a token as an access token with its expiry, never its secret', async () => {
    const t = await kms.cli<Issued>('iam-token', 'create', '--account', root.Uin);
    const r = await cli('credential', 'list', '--account', root.Uin);
    expect(r.stdout).not.toContain(t.Token.split('.')[1]);
    const rows = JSON.parse(r.stdout) as Listed[];
    expect(rows.find((x) => x.SecretId === root.SecretId)).toMatchObject({ Kind: 'KeyPair', ExpiresAt: null });
    const row = rows.find((x) => x.SecretId === tokenId(t.Token));
    expect(row).toMatchObject({ Kind: 'AccessToken', SubUin: null, Status: 'Active', LastUsedAt: null });
    expect(row!.ExpiresAt! * 1000).toBe(Date.parse(t.ExpiresAt));
    expect(row!.ExpiresAt! - row!.CreatedAt).toBe(86_400);
  });

  it('disable, enable and delete a token by its id', async () => {
    const id = tokenId((await kms.cli<Issued>('iam-token', 'create', '--account', root.Uin)).Token);
    expect(await kms.cli('credential', 'disable', '--secret-id', id)).toEqual({ SecretId: id, Status: 'Disabled' });
    expect(await kms.cli('credential', 'enable', '--secret-id', id)).toEqual({ SecretId: id, Status: 'Active' });
    expect(await kms.cli('credential', 'delete', '--secret-id', id)).toEqual({ SecretId: id, Deleted: true });
    expect((await kms.cli<Listed[]>('credential', 'list', '--account', root.Uin)).some((x) => x.SecretId === id)).toBe(false);
  });

  it("go with a deleted sub-user's other credentials", async () => {
    const user = await kms.cli<{ SubUin: string }>('user', 'create', '--account', root.Uin, '--name', 'leaver');
    await kms.cli<Issued>('iam-token', 'create', '--account', root.Uin, '--user', user.SubUin);
    expect(await kms.cli('user', 'delete', '--user', user.SubUin)).toEqual({ SubUin: user.SubUin, Deleted: true, CredentialsDeleted: 2 });
  });
});

describe('the audit trail', () => {
  it('records each issue, with the token id and never the token', async () => {
    const user = await kms.cli<{ SubUin: string }>('user', 'create', '--account', root.Uin, '--name', 'audited');
    const t = await kms.cli<Issued>('iam-token', 'create', '--account', root.Uin, '--user', user.SubUin);
    await cli('iam-token', 'create', '--account', '199999999998');
    const lines = await auditList(kms.env, '--action', 'iam-token create');
    expect(lines.find((l) => l.secretId === tokenId(t.Token))).toMatchObject({ face: 'cli', account: root.Uin, subUser: user.SubUin, result: 'Success' });
    expect(lines.find((l) => l.account === '199999999998')).toMatchObject({ face: 'cli', result: expect.stringMatching(/^Failed\./), secretId: null });
    const all = await cli('audit', 'export', '--since', '2000-01-01T00:00:00Z');
    expect(all.stdout).not.toContain(t.Token.split('.')[1]);
  });
});

describe('expired tokens', () => {
  it('are deleted a week after they expire, and only they', async () => {
    const old = await kms.cli<Issued>('iam-token', 'create', '--account', root.Uin);
    const listed = async () => (await kms.cli<Listed[]>('credential', 'list', '--account', root.Uin)).map((x) => x.SecretId);
    const setClock = (days: number) => setTestClock(clockFile, days * 86_400);
    // The clock runs ten days ahead: `old` expires on day 11, `recent` on day 14.
    await setClock(13);
    const recent = await kms.cli<Issued>('iam-token', 'create', '--account', root.Uin);
    await setClock(19);
    const fresh = await kms.cli<Issued>('iam-token', 'create', '--account', root.Uin);
    const lines = await waitForRecords(kms.env, (ls) => ls.some((l) => l.action === 'access-token-expiry' && l.secretId === tokenId(old.Token)));
    expect(lines.find((l) => l.action === 'access-token-expiry' && l.secretId === tokenId(old.Token))).toMatchObject({ face: 'service', account: root.Uin, result: 'Success' });
    const left = await listed();
    expect(left).not.toContain(tokenId(old.Token));
    expect(left).toContain(tokenId(fresh.Token));
    // Expired five days ago: kept (and answered as expired) for two more.
    expect(left).toContain(tokenId(recent.Token));
    expect(left).toContain(root.SecretId);
  });
});

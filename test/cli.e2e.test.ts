import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { PG_BASE, freshDatabase } from './support/postgres';

const BIN = path.resolve(__dirname, '..', 'bin', 'kms.js');
const exec = promisify(execFile);

let env: Record<string, string>;
let drop: (() => Promise<void>) | undefined;

beforeAll(async () => {
  env = { KMS_DATA_DIR: fs.mkdtempSync(path.join(os.tmpdir(), 'kms-cli-')), KMS_LOG_LEVEL: 'warn' };
  if (PG_BASE) {
    const db = await freshDatabase(PG_BASE);
    env.KMS_DATABASE_URL = db.url;
    drop = db.drop;
  }
});
afterAll(async () => drop?.());

async function kms(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const r = await exec(process.execPath, [BIN, ...args], { env: { ...process.env, ...env } });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (e) {
    const x = e as { code: number; stdout: string; stderr: string };
    return { code: x.code, stdout: x.stdout, stderr: x.stderr };
  }
}

it('prints help', async () => {
  const r = await kms('--help');
  expect(r.code).toBe(0);
  expect(r.stdout).toMatch(/kms serve/);
  expect(r.stdout).toMatch(/kms account create --name NAME/);
});

it("prints each command's help, and suggests what a typo meant", async () => {
  const help = await kms('user', 'create', '--help');
  expect(help.code).toBe(0);
  expect(help.stdout).toMatch(/Usage: kms user create \[options\]/);
  expect(help.stdout).toMatch(/--account <UIN>\s+\(required\)/);
  expect(help.stdout).toMatch(/--policy <FILE>/);
  expect((await kms('help')).code).toBe(0);
  const typo = await kms('acount', 'list');
  expect(typo.code).toBe(2);
  expect(typo.stderr).toMatch(/unknown command 'acount'\n\(Did you mean account\?\)/);
  const option = await kms('account', 'create', '--nmae', 'x');
  expect(option.code).toBe(2);
  expect(option.stderr).toMatch(/unknown option '--nmae'\n\(Did you mean --name\?\)/);
  expect((await kms('account')).code).toBe(2);
});

it('refuses unknown commands and missing flags with exit code 2', async () => {
  expect((await kms('frobnicate')).code).toBe(2);
  const r = await kms('account', 'create');
  expect(r.code).toBe(2);
  expect(r.stderr).toMatch(/missing --name/);
  expect((await kms('account', 'create', '--name', 'has spaces')).code).toBe(1);
  expect((await kms('credential', 'create', '--account', '999')).stderr).toMatch(/no account 999/);
});

it('refuses bad configuration clearly', async () => {
  const bad = await exec(process.execPath, [BIN, 'migrate'], { env: { ...process.env, ...env, KMS_PORT: 'eighty' } }).catch((e) => e as { code: number; stderr: string });
  expect((bad as { code: number }).code).toBe(2);
  expect((bad as { stderr: string }).stderr).toMatch(/KMS_PORT must be an integer/);
});

it('migrates safely when several processes start at once', async () => {
  const results = await Promise.all([kms('migrate'), kms('migrate'), kms('migrate'), kms('account', 'create', '--name', 'racer')]);
  for (const r of results) expect(r).toMatchObject({ code: 0 });
});

it('creates accounts and shows the SecretKey once, as one JSON object', async () => {
  const r = await kms('account', 'create', '--name', 'carol');
  const cred = JSON.parse(r.stdout);
  expect(Object.keys(cred).sort()).toEqual(['SecretId', 'SecretKey', 'Uin']);
  expect(cred.Uin).toMatch(/^\d{12}$/);
  expect(cred.SecretId).toMatch(/^AKID[A-Za-z0-9]{32}$/);
  expect(cred.SecretKey).toMatch(/^[A-Za-z0-9]{32}$/);
  const list = JSON.parse((await kms('account', 'list')).stdout);
  expect(list.find((a: { Uin: string }) => a.Uin === cred.Uin)).toMatchObject({ Name: 'carol' });
  expect(JSON.stringify(list)).not.toContain(cred.SecretKey);
});

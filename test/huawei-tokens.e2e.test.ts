import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { projectIdOf } from '../src/accounts/projects';
import { waitForRecords } from './support/audit-db';
import { HuaweiClient, Json, RawAnswer, rawRequest } from './support/huawei-client';
import { Credential, KmsService, kmsCli } from './support/kms-service';
import { msUntil } from './support/wait';
import { setTestClock } from './support/test-clock';

/**
 * X-Auth-Token on the REST face, with tokens of `kms iam-token create`: 24 hours by the
 * service's clock, revoked by the credential, user and account commands on every worker within
 * a second, a sub-user's policy carried, confined to the account's projects; and default keys
 * (`kms key create-default`) refusing changes with KMS.0211.
 */

let kms: KmsService;
let work: string;
let clockFile: string;
let alice: Credential;
let bob: Credential;
let aliceKey: string;

beforeAll(async () => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'kms-hw-tokens-'));
  clockFile = path.join(work, 'clock');
  fs.writeFileSync(clockFile, '0');
  kms = await KmsService.start({ workers: 2, env: { KMS_TEST_CLOCK_FILE: clockFile } });
  alice = await kms.createAccount('tok-alice');
  bob = await kms.createAccount('tok-bob');
  aliceKey = (await HuaweiClient.of(kms.endpoint, alice).post('create-key', { key_alias: 'alice_tok' })).key_info.key_id;
});
afterAll(async () => {
  await kms.stop();
  fs.rmSync(work, { recursive: true, force: true });
});

interface Issued {
  Token: string;
  ExpiresAt: string;
}
const issue = (uin: string, user?: string) => kms.cli<Issued>('iam-token', 'create', '--account', uin, ...(user ? ['--user', user] : []));
const idOf = (token: string) => token.split('.')[0];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** POST /v1.0/{project}/kms/<name> with the token, as a client without an SDK would send it. */
function call(token: string, name: string, body: Json = {}, project = projectIdOf(alice.Uin, 'ap-guangzhou')): Promise<RawAnswer> {
  return rawRequest(kms.endpoint, undefined, 'POST', `/v1.0/${project}/kms/${name}`, JSON.stringify(body), { headers: { 'X-Auth-Token': token } });
}
const codeOf = async (p: Promise<RawAnswer>): Promise<string> => {
  const r = await p;
  return r.status === 200 ? 'OK' : `${r.status} ${r.body.error_code}`;
};
const describe_ = (token: string) => codeOf(call(token, 'describe-key', { key_id: aliceKey }));

/** Sets the service's clock `seconds` ahead. */
const clockAhead = (seconds: number): Promise<void> => setTestClock(clockFile, seconds);

/** Every answer over `n` calls (the two workers take turns). */
async function answers(token: string, n = 6): Promise<Set<string>> {
  const out = new Set<string>();
  for (let i = 0; i < n; i++) out.add(await describe_(token));
  return out;
}

/** Milliseconds until every one of a few calls answers `code`, or Infinity after 3 s. */
/** Milliseconds until every one of a few calls with `token` answers `code`. */
const msUntilAnswered = (token: string, code: string): Promise<number> =>
  msUntil(async () => {
    const seen = await answers(token, 4);
    return seen.size === 1 && seen.has(code);
  }, 3000, 50);

describe('a token of kms iam-token create', () => {
  afterEach(() => clockAhead(0));

  it('works on every endpoint of its account for 24 hours, then answers KMS.0303', async () => {
    const t = await issue(alice.Uin);
    expect(await answers(t.Token)).toEqual(new Set(['OK']));
    const made = await call(t.Token, 'create-key', { key_alias: 'made_with_a_token' });
    expect(made.status).toBe(200);
    const cipher = (await call(t.Token, 'encrypt-data', { key_id: made.body.key_info.key_id, plain_text: 'with a token' })).body.cipher_text as string;
    expect((await call(t.Token, 'decrypt-data', { cipher_text: cipher })).body.plain_text).toBe('with a token');
    const quotas = await rawRequest(kms.endpoint, undefined, 'GET', `/v1.0/${projectIdOf(alice.Uin, 'ap-guangzhou')}/kms/user-quotas`, '', { headers: { 'X-Auth-Token': t.Token } });
    expect(quotas.status).toBe(200);

    const left = Math.floor((Date.parse(t.ExpiresAt) - Date.now()) / 1000);
    await clockAhead(left - 60);
    expect(await answers(t.Token)).toEqual(new Set(['OK']));
    await clockAhead(left + 2);
    expect(await answers(t.Token)).toEqual(new Set(['403 KMS.0303']));
    const r = await call(t.Token, 'describe-key', { key_id: aliceKey });
    expect(r.body).toMatchObject({ error_code: 'KMS.0303', error: { error_code: 'KMS.0303' } });
    // AK/SK signatures go by the wall clock; a fresh token works at the service's time.
    expect((await HuaweiClient.of(kms.endpoint, alice).post('describe-key', { key_id: aliceKey })).key_info.key_id).toBe(aliceKey);
    expect(await answers((await issue(alice.Uin)).Token)).toEqual(new Set(['OK']));
  });

  it('stops on every worker within a second of credential disable, works again after enable, and not after delete', async () => {
    const t = await issue(alice.Uin);
    expect(await answers(t.Token)).toEqual(new Set(['OK']));
    await kms.cli('credential', 'disable', '--secret-id', idOf(t.Token));
    expect(await msUntilAnswered(t.Token, '403 KMS.0302')).toBeLessThan(1500);
    await kms.cli('credential', 'enable', '--secret-id', idOf(t.Token));
    expect(await msUntilAnswered(t.Token, 'OK')).toBeLessThan(1500);
    await kms.cli('credential', 'delete', '--secret-id', idOf(t.Token));
    expect(await msUntilAnswered(t.Token, '403 KMS.0302')).toBeLessThan(1500);
  });

  it('stops while its account is disabled', async () => {
    const carol = await kms.createAccount('tok-carol');
    const t = await issue(carol.Uin);
    const own = (name: string, body: Json) => codeOf(call(t.Token, name, body, projectIdOf(carol.Uin, 'ap-guangzhou')));
    expect(await own('list-keys', {})).toBe('OK');
    await kms.cli('account', 'disable', '--account', carol.Uin);
    await sleep(1200);
    for (let i = 0; i < 4; i++) expect(await own('list-keys', {})).toBe('403 KMS.0302');
    await kms.cli('account', 'enable', '--account', carol.Uin);
    await sleep(1200);
    for (let i = 0; i < 4; i++) expect(await own('list-keys', {})).toBe('OK');
  });

  it("carries a sub-user's policy, and stops when the sub-user is deleted", async () => {
    const policy = path.join(work, 'describe-only.json');
    fs.writeFileSync(policy, JSON.stringify({ version: '2.0', statement: [{ effect: 'allow', action: ['name/kms:DescribeKey', 'name/kms:Encrypt'], resource: '*' }] }));
    const sub = await kms.cli<{ SubUin: string }>('user', 'create', '--account', alice.Uin, '--name', 'tok-sub', '--policy', policy);
    const t = await issue(alice.Uin, sub.SubUin);
    expect(await answers(t.Token)).toEqual(new Set(['OK']));
    const cipher = await call(t.Token, 'encrypt-data', { key_id: aliceKey, plain_text: 'sub' });
    expect(cipher.status).toBe(200);
    expect(await codeOf(call(t.Token, 'decrypt-data', { cipher_text: cipher.body.cipher_text }))).toBe('403 KMS.0306');
    expect(await codeOf(call(t.Token, 'create-key', { key_alias: 'by_sub_token' }))).toBe('403 KMS.0306');
    expect(await codeOf(call(t.Token, 'disable-key', { key_id: aliceKey }))).toBe('403 KMS.0306');
    await kms.cli('user', 'delete', '--user', sub.SubUin);
    expect(await msUntilAnswered(t.Token, '403 KMS.0302')).toBeLessThan(1500);
  });

  it("cannot reach another account's project (KMS.0305) nor its keys", async () => {
    const t = await issue(alice.Uin);
    expect(await codeOf(call(t.Token, 'list-keys', {}, projectIdOf(bob.Uin, 'ap-guangzhou')))).toBe('403 KMS.0305');
    expect(await codeOf(call(t.Token, 'list-keys', {}, projectIdOf(alice.Uin, 'ap-shanghai')))).toBe('OK');
    expect(await codeOf(call(t.Token, 'list-keys', {}, '0'.repeat(32)))).toBe('403 KMS.0305');
    const bobKey = (await HuaweiClient.of(kms.endpoint, bob).post('create-key', { key_alias: 'bob_tok' })).key_info.key_id;
    expect(await codeOf(call(t.Token, 'describe-key', { key_id: bobKey }))).toBe('400 KMS.0205');
  });

  it('refuses what was not issued here, a wrong secret, and an API key id, with KMS.0302; an empty one with KMS.0301', async () => {
    const t = await issue(alice.Uin);
    const [id, secret] = t.Token.split('.');
    const wrongSecret = `${id}.${secret.slice(0, -1)}${secret.endsWith('a') ? 'b' : 'a'}`;
    for (const token of ['MIIYXQYJKoZIhvcNAQcCoIIYTjCCGEoCAQExDTALBglghkgBZQMEAgEw', wrongSecret, id, `${alice.SecretId}.${secret}`, `${t.Token}x`, 'KMST' + 'a'.repeat(28) + '.' + 'b'.repeat(43)]) {
      expect([token, await describe_(token)]).toEqual([token, '403 KMS.0302']);
    }
    expect(await describe_('')).toBe('403 KMS.0301');
    expect(await describe_('x'.repeat(9000))).toBe('403 KMS.0301');
  });

  it('is a security scheme of the OpenAPI document', async () => {
    const doc = (await rawRequest(kms.endpoint, undefined, 'GET', '/_kms/openapi/huawei.json')).body;
    expect(doc.components.securitySchemes.authToken).toMatchObject({ type: 'apiKey', in: 'header', name: 'X-Auth-Token', description: expect.stringContaining('kms iam-token create') });
  });

  it('is recorded in the audit trail by its id, never its secret', async () => {
    const t = await issue(alice.Uin);
    const [id, secret] = t.Token.split('.');
    expect(await describe_(t.Token)).toBe('OK');
    expect(await describe_(`${id}.${'c'.repeat(43)}`)).toBe('403 KMS.0302');
    const lines = await waitForRecords(kms.env, (ls) => ls.filter((l) => l.face === 'huawei' && l.secretId === id).length >= 2);
    const mine = lines.filter((l) => l.face === 'huawei' && l.secretId === id);
    expect(mine.map((l) => l.result).sort()).toEqual(['KMS.0302', 'Success']);
    expect(mine.every((l) => l.account === null || l.account === alice.Uin)).toBe(true);
    const all = await kmsCli(kms.env, 'audit', 'export', '--since', '2000-01-01T00:00:00Z');
    expect(all.stdout).not.toContain(secret);
    expect(kms.logs).not.toContain(secret);
  });
});

describe('a default key on the REST face', () => {
  let key: string;
  let token: string;
  beforeAll(async () => {
    key = (await kms.cli<{ KeyId: string }>('key', 'create-default', '--account', alice.Uin, '--region', 'ap-guangzhou', '--alias', 'obs/default')).KeyId;
    token = (await issue(alice.Uin)).Token;
  });

  it('is flagged, and encrypts and decrypts', async () => {
    const info = (await call(token, 'describe-key', { key_id: key })).body.key_info;
    expect(info).toMatchObject({ key_alias: 'obs/default', default_key_flag: '1', key_state: '2' });
    expect((await call(token, 'describe-key', { key_id: aliceKey })).body.key_info.default_key_flag).toBe('0');
    const cipher = (await call(token, 'encrypt-data', { key_id: key, plain_text: 'default' })).body.cipher_text as string;
    expect((await call(token, 'decrypt-data', { cipher_text: cipher })).body.plain_text).toBe('default');
    expect((await call(token, 'create-datakey', { key_id: key, datakey_length: '256' })).status).toBe(200);
  });

  it.each([
    ['disable-key', () => ({ key_id: key })],
    ['schedule-key-deletion', () => ({ key_id: key, pending_days: '7' })],
    ['update-key-alias', () => ({ key_id: key, key_alias: 'renamed' })],
    ['update-key-description', () => ({ key_id: key, key_description: 'changed' })],
  ])('refuses %s with 400 KMS.0211, by token and by AK/SK', async (name, body) => {
    expect(await codeOf(call(token, name, body()))).toBe('400 KMS.0211');
    const f = await HuaweiClient.of(kms.endpoint, alice)
      .post(name, body())
      .then(() => 'OK', (e: { httpStatusCode?: number; errorCode?: string }) => `${e.httpStatusCode} ${e.errorCode}`);
    expect(f).toBe('400 KMS.0211');
    expect((await call(token, 'describe-key', { key_id: key })).body.key_info).toMatchObject({ key_alias: 'obs/default', key_state: '2', key_description: '' });
  });

  it('leaves no user a /default alias (KMS.1101) and is outside user-instances', async () => {
    expect(await codeOf(call(token, 'create-key', { key_alias: 'evs/default' }))).toBe('400 KMS.1101');
    expect(await codeOf(call(token, 'update-key-alias', { key_id: aliceKey, key_alias: 'evs/default' }))).toBe('400 KMS.1101');
    const instances = await rawRequest(kms.endpoint, undefined, 'GET', `/v1.0/${projectIdOf(alice.Uin, 'ap-guangzhou')}/kms/user-instances`, '', { headers: { 'X-Auth-Token': token } });
    const listed = (await call(token, 'list-keys', { limit: '1000' })).body.keys as string[];
    expect(listed).toContain(key);
    expect(instances.body.instance_num).toBe(listed.length - 1);
  });
});

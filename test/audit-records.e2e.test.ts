import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { AuditLine, auditList, jsonLines, sql, waitForRecords } from './support/audit-db';
import { Credential, KmsService, kmsCli } from './support/kms-service';
import { send, signTc3, signV1 } from './support/signer';
import { b64, codeOf, kmsClient } from './support/tencent-client';
import { setTestClock } from './support/test-clock';

/**
 * What the audit trail records: every request of the Tencent face (successes and each kind of
 * refusal), every operator command of the CLI, and the jobs' actions as the service's own;
 * with who, which key and version, from where, with what result. Never a secret: the test
 * scans the audit tables for every secret it used.
 */

let kms: KmsService;
let root: Credential;
let clockFile: string;
const secrets: string[] = [];
const keep = (...s: Array<string | undefined>) => {
  for (const x of s) if (x) secrets.push(x);
};

beforeAll(async () => {
  clockFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'kms-audit-clock-')), 'offset');
  fs.writeFileSync(clockFile, '0');
  kms = await KmsService.start({ env: { KMS_TEST_CLOCK_FILE: clockFile, KMS_JOB_INTERVAL_MS: '200', KMS_RATE_LIMITS: 'GenerateRandom=2' } });
  root = await kms.createAccount('audited');
  keep(root.SecretKey);
});
afterAll(async () => kms.stop());

const find = (lines: AuditLine[], pred: (l: AuditLine) => boolean): AuditLine => {
  const l = lines.find(pred);
  if (!l) throw new Error(`no such record among ${lines.length}:\n${lines.map((x) => JSON.stringify(x)).join('\n')}`);
  return l;
};

it('records successes with account, SecretId, key and version, source, request id and duration', async () => {
  const c = kmsClient(kms.endpoint, root);
  const { KeyId } = await c.CreateKey({ Alias: 'audited-1' });
  const plaintext = 'the plaintext nobody may log';
  const enc = await c.Encrypt({ KeyId: KeyId!, Plaintext: b64(plaintext) });
  const dec = await c.Decrypt({ CiphertextBlob: enc.CiphertextBlob! });
  const dk = await c.GenerateDataKey({ KeyId: KeyId!, NumberOfBytes: 32 });
  keep(plaintext, b64(plaintext), enc.CiphertextBlob, dec.Plaintext, dk.Plaintext, dk.CiphertextBlob);
  const lines = await waitForRecords(kms.env, (l) => l.some((x) => x.requestId === dk.RequestId));
  const created = find(lines, (l) => l.action === 'CreateKey');
  expect(created).toMatchObject({ face: 'tencent', account: root.Uin, subUser: null, secretId: root.SecretId, keys: [{ keyId: KeyId }], result: 'Success', source: '127.0.0.1', clientCert: null });
  const e = find(lines, (l) => l.requestId === enc.RequestId);
  expect(e).toMatchObject({ action: 'Encrypt', account: root.Uin, keys: [{ keyId: KeyId, version: 1 }], result: 'Success' });
  expect(e.durationMs).toBeGreaterThanOrEqual(0);
  expect(Math.abs(Date.parse(e.time) - Date.now())).toBeLessThan(60_000);
  expect(find(lines, (l) => l.requestId === dec.RequestId)).toMatchObject({ action: 'Decrypt', keys: [{ keyId: KeyId, version: 1 }], result: 'Success' });
  expect(find(lines, (l) => l.requestId === dk.RequestId)).toMatchObject({ action: 'GenerateDataKey', keys: [{ keyId: KeyId, version: 1 }] });
  // Filters of `kms audit list`.
  expect((await auditList(kms.env, '--key', KeyId!)).map((l) => l.action).sort()).toEqual(['CreateKey', 'Decrypt', 'Encrypt', 'GenerateDataKey']);
  expect((await auditList(kms.env, '--action', 'Encrypt', '--account', root.Uin)).map((l) => l.requestId)).toEqual([enc.RequestId]);
  expect(await auditList(kms.env, '--until', '2000-01-01T00:00:00Z')).toEqual([]);
  const two = await kmsCli(kms.env, 'audit', 'list', '--since', new Date(Date.now() - 60_000).toISOString(), '--limit', '2');
  expect(jsonLines(two.stdout).map((l) => l.requestId)).toEqual([dk.RequestId, dec.RequestId]);
  expect((await kmsCli(kms.env, 'audit', 'list', '--since', 'yesterday')).code).toBe(2);
});

it('records refusals: bad signature, unknown SecretId, rate limit, policy deny, v1 replay', async () => {
  const c = kmsClient(kms.endpoint, root);
  const { KeyId } = await c.CreateKey({ Alias: 'audited-2' });
  // A signature made with the wrong SecretKey.
  const forged = await send(signTc3(kms.endpoint, { SecretId: root.SecretId, SecretKey: 'not-the-secret-key-0000000000000' }, { action: 'ListKeys', body: '{}' }));
  expect(forged.code).toBe('AuthFailure.SignatureFailure');
  const unknown = await send(signTc3(kms.endpoint, { SecretId: 'AKIDunknownunknownunknownunknown1234', SecretKey: 'x' }, { action: 'ListKeys' }));
  expect(unknown.code).toBe('AuthFailure.SecretIdNotFound');
  // GenerateRandom is limited to 2 a second here.
  const codes = await Promise.all(Array.from({ length: 6 }, () => codeOf(c.GenerateRandom({ NumberOfBytes: 16 }))));
  expect(codes).toContain('RequestLimitExceeded');
  // A sub-user allowed only Encrypt.
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kms-audit-policy-'));
  fs.writeFileSync(path.join(dir, 'p.json'), JSON.stringify({ version: '2.0', statement: [{ effect: 'allow', action: ['name/kms:Encrypt'], resource: '*' }] }));
  const sub = await kms.cli<{ SubUin: string; SecretId: string; SecretKey: string }>('user', 'create', '--account', root.Uin, '--name', 'encrypt-only', '--policy', path.join(dir, 'p.json'));
  keep(sub.SecretKey);
  const s = kmsClient(kms.endpoint, { SecretId: sub.SecretId, SecretKey: sub.SecretKey });
  const { CiphertextBlob } = await s.Encrypt({ KeyId: KeyId!, Plaintext: b64('sub-user data') });
  keep(CiphertextBlob, b64('sub-user data'));
  expect(await codeOf(s.Decrypt({ CiphertextBlob: CiphertextBlob! }))).toBe('UnauthorizedOperation');
  // v1 (HmacSHA256) over raw HTTP, then the same request again: a replay.
  const v1 = signV1(kms.endpoint, root, { signatureMethod: 'HmacSHA256', params: { Action: 'DescribeKey', KeyId: KeyId! } });
  expect((await send(v1)).code).toBeUndefined();
  expect((await send(v1)).code).toBe('AuthFailure.SignatureFailure');

  const lines = await waitForRecords(kms.env, (l) => l.filter((x) => x.action === 'DescribeKey').length >= 2 && l.some((x) => x.result === 'UnauthorizedOperation'));
  expect(find(lines, (l) => l.requestId === forged.body.RequestId)).toMatchObject({ action: 'ListKeys', result: 'AuthFailure.SignatureFailure', secretId: root.SecretId, account: null });
  expect(find(lines, (l) => l.requestId === unknown.body.RequestId)).toMatchObject({ result: 'AuthFailure.SecretIdNotFound', secretId: 'AKIDunknownunknownunknownunknown1234' });
  expect(lines.filter((l) => l.action === 'GenerateRandom' && l.result === 'RequestLimitExceeded').length).toBe(codes.filter((x) => x === 'RequestLimitExceeded').length);
  expect(find(lines, (l) => l.action === 'Decrypt' && l.result === 'UnauthorizedOperation')).toMatchObject({ account: root.Uin, subUser: sub.SubUin, secretId: sub.SecretId, keys: [{ keyId: KeyId }] });
  expect(find(lines, (l) => l.action === 'Encrypt' && l.subUser === sub.SubUin)).toMatchObject({ result: 'Success', keys: [{ keyId: KeyId, version: 1 }] });
  const v1s = lines.filter((l) => l.action === 'DescribeKey').map((l) => l.result).sort();
  expect(v1s).toEqual(['AuthFailure.SignatureFailure', 'Success']);
  // Unparseable and unsigned requests are recorded too.
  const bare = await fetch(`http://${kms.endpoint}/`, { method: 'PUT' });
  expect(bare.status).toBe(200);
  await waitForRecords(kms.env, (l) => l.some((x) => x.result === 'UnsupportedProtocol'));
});

it('records every operator command of the CLI, failures included', async () => {
  const cred = await kms.cli<{ SecretId: string; SecretKey: string }>('credential', 'create', '--account', root.Uin);
  keep(cred.SecretKey);
  await kms.cli('credential', 'disable', '--secret-id', cred.SecretId);
  await kms.cli('credential', 'enable', '--secret-id', cred.SecretId);
  await kms.cli('account', 'disable', '--account', root.Uin);
  await kms.cli('account', 'enable', '--account', root.Uin);
  const missing = await kmsCli(kms.env, 'credential', 'delete', '--secret-id', 'AKIDnosuchcredential000000000000000');
  expect(missing.code).toBe(1);
  const lines = (await auditList(kms.env)).filter((l) => l.face === 'cli');
  const actions = lines.map((l) => `${l.action}:${l.result}`);
  for (const a of ['account create:Success', 'user create:Success', 'credential create:Success', 'credential disable:Success', 'credential enable:Success', 'account disable:Success', 'account enable:Success'])
    expect(actions).toContain(a);
  expect(actions.some((a) => a.startsWith('credential delete:Failed.'))).toBe(true);
  expect(find(lines, (l) => l.action === 'credential create')).toMatchObject({ account: root.Uin, secretId: cred.SecretId });
  expect(find(lines, (l) => l.action === 'account disable')).toMatchObject({ account: root.Uin });
  expect(find(lines, (l) => l.action === 'account create' && l.account === root.Uin)).toMatchObject({ secretId: root.SecretId });
});

it("records the deletion job's work as the service's own", async () => {
  const c = kmsClient(kms.endpoint, root);
  const { KeyId } = await c.CreateKey({ Alias: 'audited-doomed' });
  await c.DisableKey({ KeyId: KeyId! });
  await c.ScheduleKeyDeletion({ KeyId: KeyId!, PendingWindowInDays: 7 });
  fs.writeFileSync(clockFile, String(8 * 86400));
  const lines = await waitForRecords(kms.env, (l) => l.some((x) => x.face === 'service' && x.action === 'key-deletion'), 15_000);
  expect(find(lines, (l) => l.face === 'service' && l.action === 'key-deletion')).toMatchObject({ account: root.Uin, keys: [{ keyId: KeyId }], result: 'Success', secretId: null });
  await setTestClock(clockFile, 0);
});

it('holds no secret: SecretKeys, plaintexts, ciphertexts, data keys, PINs', async () => {
  const softhsm = path.join(kms.env.KMS_DATA_DIR, 'softhsm');
  keep(fs.readFileSync(path.join(softhsm, 'user.pin'), 'utf8').trim(), fs.readFileSync(path.join(softhsm, 'so.pin'), 'utf8').trim());
  expect(secrets.length).toBeGreaterThanOrEqual(12);
  const dump = JSON.stringify([...(await sql(kms.env, 'SELECT * FROM audit_records')), ...(await sql(kms.env, 'SELECT * FROM audit_chains'))]);
  expect(dump.length).toBeGreaterThan(1000);
  for (const s of secrets) expect(dump).not.toContain(s);
  const verify = await kmsCli(kms.env, 'audit', 'verify');
  expect(verify.code).toBe(0);
});

import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import { projectIdOf } from '../src/accounts/projects';
import { waitForRecords } from './support/audit-db';
import { HuaweiClient, Json, codeOf, rawRequest } from './support/huawei-client';
import { Credential, KmsService, kmsCli } from './support/kms-service';
import { codeOf as tcCodeOf, kmsClient } from './support/tencent-client';

/**
 * Who may call the REST face: AK/SK signatures as the SDK core makes them (and every way one
 * can be wrong), the project in the path (one account's, in one served region), isolation
 * between accounts and projects, sub-user policies, X-Auth-Token, rate limits and quotas, and
 * the OpenAPI document.
 */
let kms: KmsService;
let alice: Credential;
let bob: Credential;
let aliceKey: string;
let path_: (name: string, project?: string) => string;

beforeAll(async () => {
  kms = await KmsService.start();
  alice = await kms.createAccount('hw-alice');
  bob = await kms.createAccount('hw-bob');
  aliceKey = (await HuaweiClient.of(kms.endpoint, alice).post('create-key', { key_alias: 'alice_key' })).key_info.key_id;
  path_ = (name, project = projectIdOf(alice.Uin, 'ap-guangzhou')) => `/v1.0/${project}/kms/${name}`;
});
afterAll(() => kms.stop());

const describeBody = () => JSON.stringify({ key_id: aliceKey });
const sdkDate = (msAgo: number): string => new Date(Date.now() - msAgo).toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');

describe('AK/SK signatures', () => {
  it('accepts what the SDK signs: POST with a JSON body, GET without one (an unsigned payload)', async () => {
    const hw = HuaweiClient.of(kms.endpoint, alice);
    expect((await hw.post('describe-key', { key_id: aliceKey })).key_info.key_alias).toBe('alice_key');
    expect((await hw.get('user-instances')).instance_num).toBe(1);
    // A query string is signed too, its parameters sorted by name (no endpoint reads one).
    expect((await hw.get('user-instances', { zone: 'b c', limit: '10', marker: 'é/x' })).instance_num).toBe(1);
    // The signer's own request, 14 minutes old, is still within the window.
    const r = await rawRequest(kms.endpoint, alice, 'POST', path_('describe-key'), describeBody(), { headers: { 'X-Sdk-Date': sdkDate(14 * 60_000) } });
    expect(r.status).toBe(200);
  });

  it('KMS.0301: no credentials, or an authorization of another form', async () => {
    const none = await rawRequest(kms.endpoint, undefined, 'POST', path_('describe-key'), describeBody());
    expect([none.status, none.body.error_code]).toEqual([403, 'KMS.0301']);
    const forms = [
      'SDK-HMAC-SHA256 Access=AKIDx, SignedHeaders=host;x-sdk-date',
      'TC3-HMAC-SHA256 Credential=AKIDx/2026-01-01/kms/tc3_request, SignedHeaders=host, Signature=' + '0'.repeat(64),
      `SDK-HMAC-SHA256 Access=${alice.SecretId}, SignedHeaders=host, Signature=${'0'.repeat(64)}`,
    ];
    for (const auth of forms) {
      const r = await rawRequest(kms.endpoint, alice, 'POST', path_('describe-key'), describeBody(), { afterSigning: (h) => void (h.Authorization = auth) });
      expect([auth, r.status, r.body.error_code]).toEqual([auth, 403, 'KMS.0301']);
    }
    const badDate = await rawRequest(kms.endpoint, alice, 'POST', path_('describe-key'), describeBody(), { afterSigning: (h) => void (h['X-Sdk-Date'] = '2026-11-30T04:00:00Z') });
    expect([badDate.status, badDate.body.error_code]).toEqual([403, 'KMS.0301']);
    const emptyToken = await rawRequest(kms.endpoint, undefined, 'POST', path_('describe-key'), describeBody(), { headers: { 'X-Auth-Token': '' } });
    expect([emptyToken.status, emptyToken.body.error_code]).toEqual([403, 'KMS.0301']);
  });

  it('KMS.0302: a wrong SK, an unknown or disabled AK, a tampered header or body, an unsigned body, temporary credentials', async () => {
    const wrongSk = await codeOf(HuaweiClient.of(kms.endpoint, { ...alice, SecretKey: alice.SecretKey.slice(1) + 'x' }).post('describe-key', { key_id: aliceKey }));
    expect(wrongSk).toBe('403 KMS.0302');
    expect(await codeOf(HuaweiClient.of(kms.endpoint, { ...alice, SecretId: 'AKID' + 'Z'.repeat(32) }).post('describe-key', { key_id: aliceKey }))).toBe('403 KMS.0302');
    expect(await codeOf(HuaweiClient.of(kms.endpoint, { ...alice, SecretId: 'not-an-ak' }).post('describe-key', { key_id: aliceKey }))).toBe('403 KMS.0302');
    const tamper = async (opts: Parameters<typeof rawRequest>[5], body = describeBody()) => {
      const r = await rawRequest(kms.endpoint, alice, 'POST', path_('describe-key'), body, opts);
      return `${r.status} ${r.body.error_code}`;
    };
    expect(await tamper({ afterSigning: (h) => void (h['content-type'] = 'application/json; charset=utf-8') })).toBe('403 KMS.0302');
    expect(await tamper({ headers: { 'X-Sdk-Content-Sha256': crypto.createHash('sha256').update('{}').digest('hex') } })).toBe('403 KMS.0302');
    expect(await tamper({ headers: { 'X-Sdk-Content-Sha256': 'UNSIGNED-PAYLOAD' } })).toBe('403 KMS.0302');
    expect(await tamper({ headers: { 'X-Security-Token': 'temporary' } })).toBe('403 KMS.0302');
    // The query sent is not the one signed: changed, added or left out.
    expect(await tamper({ query: { limit: '10' }, sentQuery: 'limit=11' })).toBe('403 KMS.0302');
    expect(await tamper({ sentQuery: 'limit=10' })).toBe('403 KMS.0302');
    expect(await tamper({ query: { limit: '10' }, sentQuery: '' })).toBe('403 KMS.0302');
    expect(await tamper({ query: { limit: '10' } })).toBe('200 undefined');
    // A signed header changed after signing: the date.
    const other = await rawRequest(kms.endpoint, alice, 'POST', path_('describe-key'), describeBody(), { afterSigning: (h) => void (h['X-Sdk-Date'] = sdkDate(5000)) });
    expect(`${other.status} ${other.body.error_code}`).toBe('403 KMS.0302');

    const extra = await kms.cli<Credential>('credential', 'create', '--account', alice.Uin);
    const hw = HuaweiClient.of(kms.endpoint, { ...extra, Uin: alice.Uin });
    expect((await hw.post('describe-key', { key_id: aliceKey })).key_info.key_id).toBe(aliceKey);
    await kms.cli('credential', 'disable', '--secret-id', extra.SecretId);
    await new Promise((r) => setTimeout(r, 1500));
    expect(await codeOf(hw.post('describe-key', { key_id: aliceKey }))).toBe('403 KMS.0302');
  });

  it('KMS.0302: an X-Auth-Token not issued here', async () => {
    const r = await rawRequest(kms.endpoint, undefined, 'POST', path_('describe-key'), describeBody(), { headers: { 'X-Auth-Token': 'MIIYXQYJKoZIhvcNAQcCoIIYTjCCGEoCAQExDTALBglghkgBZQMEAgEw' } });
    expect([r.status, r.body.error_code]).toEqual([403, 'KMS.0302']);
  });

  it('KMS.0303: an X-Sdk-Date more than 15 minutes away', async () => {
    for (const offset of [16 * 60_000, -16 * 60_000, 86_400_000]) {
      const r = await rawRequest(kms.endpoint, alice, 'POST', path_('describe-key'), describeBody(), { headers: { 'X-Sdk-Date': sdkDate(offset) } });
      expect([offset, r.status, r.body.error_code]).toEqual([offset, 403, 'KMS.0303']);
    }
  });

  it('records refusals in the audit trail with the AK they claim', async () => {
    const bogus = { ...alice, SecretKey: 'wrong-secret-key-of-forty-characters-xx' };
    await codeOf(HuaweiClient.of(kms.endpoint, bogus).post('gen-random', { random_data_length: '64' }));
    const lines = await waitForRecords(kms.env, (l) => l.some((x) => x.face === 'huawei' && x.action === 'GenerateRandom' && x.result === 'KMS.0302'));
    expect(lines.find((x) => x.face === 'huawei' && x.result === 'KMS.0302')).toMatchObject({ action: 'GenerateRandom', secretId: alice.SecretId, account: null });
  });
});

describe('replays', () => {
  /** Sends headers captured from a signed request again, as they were, optionally from another local address. */
  const resend = (reqPath: string, body: string, headers: Record<string, string>, localAddress?: string): Promise<string> => {
    const [host, port] = kms.endpoint.split(':');
    return new Promise((resolve, reject) => {
      const req = http.request({ host, port: Number(port), method: 'POST', path: reqPath, localAddress, agent: false, headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) } }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve(res.statusCode === 200 ? 'OK' : `${res.statusCode} ${JSON.parse(Buffer.concat(chunks).toString()).error_code}`));
      });
      req.on('error', reject);
      req.end(body);
    });
  };
  const signed = async (name: string, body: string): Promise<Record<string, string>> => {
    let captured: Record<string, string> = {};
    const r = await rawRequest(kms.endpoint, alice, 'POST', path_(name), body, { afterSigning: (h) => void (captured = { ...h }) });
    expect(r.status).toBe(200);
    return captured;
  };

  it('KMS.0302: a signed request sent again after 2 seconds, or from another address, is a replay', async () => {
    const hw = HuaweiClient.of(kms.endpoint, alice);
    const k = (await hw.post('create-key', { key_alias: 'alice_replayed' })).key_info.key_id;
    await hw.post('disable-key', { key_id: k });
    const body = JSON.stringify({ key_id: k });
    const enable = await signed('enable-key', body);
    // The owner disables the key again; the captured enable-key must not undo that.
    await hw.post('disable-key', { key_id: k });
    expect(await resend(path_('enable-key'), body, enable, '127.0.0.2')).toBe('403 KMS.0302');
    await new Promise((r) => setTimeout(r, 2100));
    expect(await resend(path_('enable-key'), body, enable)).toBe('403 KMS.0302');
    expect((await hw.post('describe-key', { key_id: k })).key_info.key_state).toBe('3');
    // Reads and cryptographic calls too: a captured decrypt-data does not decrypt twice.
    const cipher = (await hw.post('encrypt-data', { key_id: aliceKey, plain_text: 'once' })).cipher_text;
    const decryptBody = JSON.stringify({ cipher_text: cipher });
    const decrypt = await signed('decrypt-data', decryptBody);
    await new Promise((r) => setTimeout(r, 2100));
    expect(await resend(path_('decrypt-data'), decryptBody, decrypt)).toBe('403 KMS.0302');
  });

  it('accepts the same signature again from the same address within 2 seconds: identical calls made in the same second', async () => {
    const date = sdkDate(0);
    const codes = await Promise.all(
      Array.from({ length: 3 }, async () => (await rawRequest(kms.endpoint, alice, 'POST', path_('describe-key'), describeBody(), { headers: { 'X-Sdk-Date': date } })).status),
    );
    expect(codes).toEqual([200, 200, 200]);
  });
});

describe('projects and isolation', () => {
  it('prints the project of each region of an account (kms account projects)', async () => {
    const projects = await kms.cli('account', 'projects', '--account', alice.Uin);
    expect(projects).toEqual([
      { Region: 'ap-guangzhou', ProjectId: projectIdOf(alice.Uin, 'ap-guangzhou') },
      { Region: 'ap-shanghai', ProjectId: projectIdOf(alice.Uin, 'ap-shanghai') },
    ]);
    for (const p of projects as Array<{ ProjectId: string }>) expect(p.ProjectId).toMatch(/^[0-9a-f]{32}$/);
    expect(projects).not.toEqual(await kms.cli('account', 'projects', '--account', bob.Uin));
    const unknown = await kmsCli(kms.env, 'account', 'projects', '--account', '999999999999');
    expect([unknown.code, unknown.stderr]).toEqual([1, 'kms: no account 999999999999\n']);
  });

  it("KMS.0305: another account's project, an unknown one, a region not served, or X-Project-Id not the path's", async () => {
    for (const project of [projectIdOf(bob.Uin, 'ap-guangzhou'), 'f'.repeat(32), projectIdOf(alice.Uin, 'eu-nowhere'), 'not-a-project']) {
      expect([project, await codeOf(HuaweiClient.of(kms.endpoint, alice, { projectId: project }).post('describe-key', { key_id: aliceKey }))]).toEqual([project, '403 KMS.0305']);
    }
    const r = await rawRequest(kms.endpoint, alice, 'POST', path_('describe-key'), describeBody(), { headers: { 'X-Project-Id': projectIdOf(alice.Uin, 'ap-shanghai') } });
    expect([r.status, r.body.error_code]).toEqual([403, 'KMS.0305']);
  });

  it("never reaches another account's keys, nor another project's", async () => {
    const aliceHw = HuaweiClient.of(kms.endpoint, alice);
    const bobHw = HuaweiClient.of(kms.endpoint, bob);
    const cipher = (await aliceHw.post('encrypt-data', { key_id: aliceKey, plain_text: 'alice only' })).cipher_text;
    const dk = (await aliceHw.post('create-datakey', { key_id: aliceKey })).cipher_text;
    for (const call of [
      bobHw.post('describe-key', { key_id: aliceKey }),
      bobHw.post('encrypt-data', { key_id: aliceKey, plain_text: 'x' }),
      bobHw.post('decrypt-data', { cipher_text: cipher }),
      bobHw.post('decrypt-datakey', { key_id: aliceKey, cipher_text: dk, datakey_cipher_length: '32' }),
      bobHw.post('disable-key', { key_id: aliceKey }),
      bobHw.post('update-key-alias', { key_id: aliceKey, key_alias: 'stolen' }),
    ]) {
      expect(await codeOf(call)).toBe('400 KMS.0205');
    }
    expect((await bobHw.post('list-keys', {})).total).toBe(0);
    // Alice's other region is another project, without this key.
    const aliceSh = HuaweiClient.of(kms.endpoint, alice, { region: 'ap-shanghai' });
    expect(await codeOf(aliceSh.post('describe-key', { key_id: aliceKey }))).toBe('400 KMS.0205');
    expect(await codeOf(aliceSh.post('decrypt-data', { cipher_text: cipher }))).toBe('400 KMS.0205');
    expect((await aliceHw.post('describe-key', { key_id: aliceKey })).key_info.key_state).toBe('2');
  });
});

describe('sub-user policies', () => {
  it("KMS.0306: what the sub-user's policy does not allow, in the core's operation names", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hw-policy-'));
    const file = path.join(dir, 'policy.json');
    const denied = (await HuaweiClient.of(kms.endpoint, alice).post('create-key', { key_alias: 'alice_denied' })).key_info.key_id;
    fs.writeFileSync(
      file,
      JSON.stringify({
        version: '2.0',
        statement: [
          { effect: 'allow', action: ['name/kms:DescribeKey', 'name/kms:Encrypt'], resource: '*' },
          { effect: 'deny', action: 'name/kms:*', resource: `qcs::kms:ap-guangzhou:${alice.Uin}:key/creatorUin/*/${denied}` },
        ],
      }),
    );
    const sub = await kms.cli<{ SubUin: string; SecretId: string; SecretKey: string }>('user', 'create', '--account', alice.Uin, '--name', 'hw-sub', '--policy', file);
    const hw = HuaweiClient.of(kms.endpoint, { Uin: alice.Uin, SecretId: sub.SecretId, SecretKey: sub.SecretKey });
    expect((await hw.post('describe-key', { key_id: aliceKey })).key_info.key_id).toBe(aliceKey);
    const cipher = (await hw.post('encrypt-data', { key_id: aliceKey, plain_text: 'by the sub-user' })).cipher_text;
    expect(await codeOf(hw.post('decrypt-data', { cipher_text: cipher }))).toBe('403 KMS.0306');
    expect(await codeOf(hw.post('create-key', { key_alias: 'by_sub' }))).toBe('403 KMS.0306');
    expect(await codeOf(hw.post('gen-random', { random_data_length: '64' }))).toBe('403 KMS.0306');
    expect(await codeOf(hw.post('list-keys', {}))).toBe('403 KMS.0306');
    expect(await codeOf(hw.get('user-quotas'))).toBe('403 KMS.0306');
    expect(await codeOf(hw.post('describe-key', { key_id: denied }))).toBe('403 KMS.0306');
    expect(await codeOf(hw.post('disable-key', { key_id: aliceKey }))).toBe('403 KMS.0306');
  });
});

describe('list-keys', () => {
  it('needs ListKeyDetail, as it answers the aliases, descriptions and states; ListKeys alone serves only user-instances', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hw-policy-'));
    const sub = async (name: string, action: string) => {
      const file = path.join(dir, `${name}.json`);
      fs.writeFileSync(file, JSON.stringify({ version: '2.0', statement: [{ effect: 'allow', action: [`name/kms:${action}`], resource: '*' }] }));
      const u = await kms.cli<{ SecretId: string; SecretKey: string }>('user', 'create', '--account', alice.Uin, '--name', name, '--policy', file);
      return HuaweiClient.of(kms.endpoint, { Uin: alice.Uin, SecretId: u.SecretId, SecretKey: u.SecretKey });
    };
    const idsOnly = await sub('hw-list-ids', 'ListKeys');
    expect(await codeOf(idsOnly.post('list-keys', {}))).toBe('403 KMS.0306');
    expect(await codeOf(idsOnly.get('user-instances'))).toBe('OK');
    const details = await sub('hw-list-details', 'ListKeyDetail');
    expect((await details.post('list-keys', {})).key_details.map((k: Json) => k.key_id)).toContain(aliceKey);
  });
});

describe('limits', () => {
  let limited: KmsService;
  beforeAll(async () => {
    limited = await KmsService.start({ env: { KMS_RATE_LIMITS: 'gen-random=3', KMS_CMK_QUOTA: '2' } });
  });
  afterAll(() => limited.stop());

  it('429 APIGW.0308: more requests per second than the endpoint allows', async () => {
    const cred = await limited.createAccount('hw-limited');
    const hw = HuaweiClient.of(limited.endpoint, cred);
    const codes = await Promise.all(Array.from({ length: 8 }, () => codeOf(hw.post('gen-random', { random_data_length: '64' }))));
    expect(codes.filter((c) => c === 'OK').length).toBeLessThanOrEqual(3);
    expect(codes).toContain('429 APIGW.0308');
    // Other endpoints have their own budget, and so has the Action API's GenerateRandom.
    expect(await codeOf(hw.get('user-instances'))).toBe('OK');
    const tc = kmsClient(limited.endpoint, cred);
    await Promise.all(Array.from({ length: 5 }, () => tc.GenerateRandom({ NumberOfBytes: 8 })));
  });

  it('KMS.1105: a key over the quota; user-quotas shows it', async () => {
    const cred = await limited.createAccount('hw-quota');
    const hw = HuaweiClient.of(limited.endpoint, cred);
    await hw.post('create-key', { key_alias: 'q1' });
    await HuaweiClient.of(limited.endpoint, cred, { region: 'ap-shanghai' }).post('create-key', { key_alias: 'q2' });
    expect(await codeOf(hw.post('create-key', { key_alias: 'q3' }))).toBe('400 KMS.1105');
    expect((await hw.get('user-quotas')).quotas.resources[0]).toEqual({ type: 'CMK', used: 2, quota: 2 });
  });
});

/** The endpoints of the key, data key and data routes (tags and import come with their own modules). */
const ENDPOINTS = [
  'POST create-key', 'POST enable-key', 'POST disable-key', 'POST schedule-key-deletion', 'POST cancel-key-deletion', 'POST list-keys', 'POST describe-key',
  'POST gen-random', 'POST create-datakey', 'POST create-datakey-without-plaintext', 'POST encrypt-datakey', 'POST decrypt-datakey',
  'GET user-instances', 'GET user-quotas', 'POST update-key-alias', 'POST update-key-description', 'POST encrypt-data', 'POST decrypt-data',
];

describe('a full register of signatures', () => {
  it('429 APIGW.0308 (RequestLimitExceeded on the Action API) for new signatures while the register holds KMS_SIGNATURE_REGISTER_ENTRIES', async () => {
    const full = await KmsService.start({ env: { KMS_SIGNATURE_REGISTER_ENTRIES: '2' } });
    try {
      const cred = await full.createAccount('hw-full');
      const hw = HuaweiClient.of(full.endpoint, cred);
      const tc = kmsClient(full.endpoint, cred);
      expect(await codeOf(hw.get('user-instances'))).toBe('OK');
      await tc.GetRegions();
      expect(await codeOf(hw.post('gen-random', { random_data_length: '64' }))).toBe('429 APIGW.0308');
      // Another body than GetRegions's: in the same second, the same body carries the same TC3 signature.
      expect(await tcCodeOf(tc.ListKeys({ Limit: 5 }))).toBe('RequestLimitExceeded');
    } finally {
      await full.stop();
    }
  });
});

describe('the OpenAPI document', () => {
  const get = (p: string): Promise<{ status: number; body: Json }> =>
    new Promise((resolve, reject) => {
      const [host, port] = kms.endpoint.split(':');
      http
        .get({ host, port: Number(port), path: p, agent: false }, (res) => {
          let text = '';
          res.on('data', (c) => (text += c));
          res.on('end', () => resolve({ status: res.statusCode!, body: JSON.parse(text) as Json }));
        })
        .on('error', reject);
    });

  it('describes every endpoint of the route table at /_kms/openapi/huawei.json', async () => {
    const { status, body } = await get('/_kms/openapi/huawei.json');
    expect(status).toBe(200);
    expect(body.openapi).toBe('3.0.3');
    const served = Object.entries(body.paths as Json).flatMap(([p, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${p.replace('/v1.0/{project_id}/kms/', '')}`));
    expect(served).toEqual(expect.arrayContaining(ENDPOINTS));
    const create = body.paths['/v1.0/{project_id}/kms/create-key'].post;
    expect(create).toMatchObject({ 'x-kms-operation': 'CreateKey', 'x-rate-limit-per-second': 100 });
    expect(create.requestBody.content['application/json'].schema).toMatchObject({ required: ['key_alias'], properties: { key_alias: { type: 'string', pattern: '^[a-zA-Z0-9:/_]{1,255}$' } } });
    expect(create.parameters).toEqual([{ name: 'project_id', in: 'path', required: true, schema: { type: 'string', pattern: '^[0-9a-f]{32}$' } }]);
    expect(body.paths['/v1.0/{project_id}/kms/user-quotas'].get.requestBody).toBeUndefined();
    expect(body.components.schemas.Error.properties.error_code.enum).toEqual(expect.arrayContaining(['KMS.0201', 'KMS.0305', 'APIGW.0308']));
  });

  it('answers 404 for a face without a document, or none of that name', async () => {
    expect((await get('/_kms/openapi/tencent.json')).status).toBe(404);
    expect((await get('/_kms/openapi/nothing.json')).status).toBe(404);
  });
});

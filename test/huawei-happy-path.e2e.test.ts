import * as crypto from 'node:crypto';
import { waitForRecords } from './support/audit-db';
import { HuaweiClient, Json, rawRequest, withDigest } from './support/huawei-client';
import { Credential, KmsService } from './support/kms-service';
import { mismatches } from './support/openapi-answers';

/**
 * Every endpoint of the REST face (v1.0) except tags and import, driven by the vendor's SDK
 * core on a real token and database: fields, formats (key states "1".."5", millisecond times
 * as strings, hex data keys, base64 ciphertexts), paging, and the audit trail.
 */
let kms: KmsService;
let cred: Credential;
let hw: HuaweiClient;
let openapi: Json;
const answered = new Set<string>();

beforeAll(async () => {
  kms = await KmsService.start();
  cred = await kms.createAccount('hw-happy');
  hw = HuaweiClient.of(kms.endpoint, cred);
  openapi = (await rawRequest(kms.endpoint, undefined, 'GET', '/_kms/openapi/huawei.json')).body;
  // Every answer of this file must be what the OpenAPI document says it is.
  HuaweiClient.onAnswer = (method, name, body) => {
    const op = openapi.paths[`/v1.0/{project_id}/kms/${name}`][method.toLowerCase()];
    const { httpStatusCode, ...rest } = body;
    expect(mismatches(op.responses[String(httpStatusCode)].content['application/json'].schema, rest, name)).toEqual([]);
    answered.add(`${method} ${name}`);
  };
});
afterAll(() => kms.stop());

const createKey = async (c: HuaweiClient, alias: string, extra: Json = {}): Promise<string> => (await c.post('create-key', { key_alias: alias, ...extra })).key_info.key_id;
const describe_ = async (c: HuaweiClient, keyId: string): Promise<Json> => (await c.post('describe-key', { key_id: keyId })).key_info;
const sha256hex = (b: Buffer): string => crypto.createHash('sha256').update(b).digest('hex').toUpperCase();

it('creates a key and describes it, signed by the SDK core', async () => {
  const before = Date.now();
  const created = await hw.post('create-key', { key_alias: 'hw_first', key_description: 'made through the REST face', sequence: crypto.randomUUID() });
  expect(created.httpStatusCode).toBe(200);
  expect(created.key_info).toEqual({ key_id: expect.stringMatching(/^[0-9a-f-]{36}$/), domain_id: cred.Uin });
  const info = await describe_(hw, created.key_info.key_id);
  expect(info).toEqual({
    key_id: created.key_info.key_id,
    domain_id: cred.Uin,
    key_alias: 'hw_first',
    realm: 'ap-guangzhou',
    key_description: 'made through the REST face',
    creation_date: expect.stringMatching(/^\d{13}$/),
    scheduled_deletion_date: '',
    key_state: '2',
    default_key_flag: '0',
    key_type: '1',
    expiration_time: '',
    origin: 'kms',
    sys_enterprise_project_id: '0',
  });
  expect(Math.abs(Number(info.creation_date) - before)).toBeLessThan(60_000);
  // An external key waits for its material: state "5".
  const ext = await createKey(hw, 'hw_external', { origin: 'external', enterprise_project_id: '0' });
  expect(await describe_(hw, ext)).toMatchObject({ key_state: '5', origin: 'external' });
});

it('disables, enables, schedules and cancels the deletion of a key', async () => {
  const keyId = await createKey(hw, 'hw_lifecycle');
  expect(await hw.post('disable-key', { key_id: keyId })).toMatchObject({ key_info: { key_id: keyId, key_state: '3' } });
  expect((await describe_(hw, keyId)).key_state).toBe('3');
  expect(await hw.post('enable-key', { key_id: keyId })).toMatchObject({ key_info: { key_id: keyId, key_state: '2' } });
  await hw.post('disable-key', { key_id: keyId });
  // The longest window this API allows, as a string (as documented) and as a number.
  const scheduled = await hw.post('schedule-key-deletion', { key_id: keyId, pending_days: '1096' });
  expect(scheduled).toMatchObject({ key_id: keyId, key_state: '4' });
  const info = await describe_(hw, keyId);
  expect(info.key_state).toBe('4');
  expect(Math.abs(Number(info.scheduled_deletion_date) - (Date.now() + 1096 * 86_400_000))).toBeLessThan(60_000);
  expect(await hw.post('cancel-key-deletion', { key_id: keyId })).toMatchObject({ key_id: keyId, key_state: '3' });
  expect(await describe_(hw, keyId)).toMatchObject({ key_state: '3', scheduled_deletion_date: '' });
  expect(await hw.post('schedule-key-deletion', { key_id: keyId, pending_days: 7 })).toMatchObject({ key_state: '4' });
});

it('lists keys in pages with limit, marker and a state filter', async () => {
  const own = await kms.createAccount('hw-list');
  const c = HuaweiClient.of(kms.endpoint, own);
  const made = [await createKey(c, 'l1'), await createKey(c, 'l2'), await createKey(c, 'l3')];
  // Without limit: every key, oldest first (keys made in the same second by id).
  const ids: string[] = (await c.post('list-keys', {})).keys;
  expect([...ids].sort()).toEqual([...made].sort());
  const first = await c.post('list-keys', { limit: '2' });
  expect(first).toMatchObject({ keys: ids.slice(0, 2), truncated: 'true', next_marker: '2', total: 3 });
  expect(first.key_details.map((d: Json) => d.key_id)).toEqual(ids.slice(0, 2));
  expect(first.key_details[0]).toMatchObject({ key_id: ids[0], key_state: '2', realm: 'ap-guangzhou', creation_date: expect.stringMatching(/^\d{13}$/) });
  const second = await c.post('list-keys', { limit: 2, marker: first.next_marker });
  expect(second).toMatchObject({ keys: [ids[2]], truncated: 'false', next_marker: '', total: 3 });
  await c.post('disable-key', { key_id: ids[1] });
  expect(await c.post('list-keys', { key_state: '3' })).toMatchObject({ keys: [ids[1]], total: 1, truncated: 'false' });
  expect(await c.post('list-keys', { key_state: '2' })).toMatchObject({ keys: [ids[0], ids[2]], total: 2 });
  // No key is ever "pending activation" here.
  expect(await c.post('list-keys', { key_state: '1' })).toMatchObject({ keys: [], key_details: [], total: 0, truncated: 'false', next_marker: '' });
  // Another region's project of the same account has none of them.
  expect((await HuaweiClient.of(kms.endpoint, own, { region: 'ap-shanghai' }).post('list-keys', {})).total).toBe(0);
});

it('changes the alias and the description', async () => {
  const keyId = await createKey(hw, 'hw_renamed_from');
  expect(await hw.post('update-key-alias', { key_id: keyId, key_alias: 'team:app/hw_renamed' })).toMatchObject({ key_info: { key_id: keyId, key_alias: 'team:app/hw_renamed' } });
  expect(await hw.post('update-key-description', { key_id: keyId, key_description: 'now described' })).toMatchObject({ key_info: { key_id: keyId, key_description: 'now described' } });
  expect(await describe_(hw, keyId)).toMatchObject({ key_alias: 'team:app/hw_renamed', key_description: 'now described' });
  // The alias freed can be taken again; an empty description clears it.
  await createKey(hw, 'hw_renamed_from');
  await hw.post('update-key-description', { key_id: keyId, key_description: '' });
  expect((await describe_(hw, keyId)).key_description).toBe('');
});

it('makes random data of 8 to 8192 bits, in hex', async () => {
  expect((await hw.post('gen-random', { random_data_length: '512' })).random_data).toMatch(/^[0-9A-F]{128}$/);
  expect((await hw.post('gen-random', { random_data_length: 8 })).random_data).toMatch(/^[0-9A-F]{2}$/);
  const big = (await hw.post('gen-random', { random_data_length: '8192' })).random_data;
  expect(big).toHaveLength(2048);
  expect(new Set(big).size).toBeGreaterThan(10);
});

it('makes data keys, encrypts given ones with their digest, and decrypts them', async () => {
  const keyId = await createKey(hw, 'hw_datakeys');
  const ctx = { app: 'hw', tenant: '7' };
  // 256 bits when no length is asked for.
  const dflt = await hw.post('create-datakey', { key_id: keyId });
  expect(dflt).toMatchObject({ key_id: keyId, plain_text: expect.stringMatching(/^[0-9A-F]{64}$/), cipher_text: expect.stringMatching(/^[0-9A-F]+$/) });
  const dk = await hw.post('create-datakey', { key_id: keyId, datakey_length: '512', encryption_context: ctx });
  expect(dk.plain_text).toMatch(/^[0-9A-F]{128}$/);
  const opened = await hw.post('decrypt-datakey', { key_id: keyId, cipher_text: dk.cipher_text, datakey_cipher_length: '64', encryption_context: { tenant: '7', app: 'hw' } });
  expect(opened).toMatchObject({ data_key: dk.plain_text, datakey_length: '64', datakey_dgst: sha256hex(Buffer.from(dk.plain_text, 'hex')), datakey_digest: sha256hex(Buffer.from(dk.plain_text, 'hex')) });

  const noPlain = await hw.post('create-datakey-without-plaintext', { key_id: keyId, key_spec: 'AES_128' });
  expect(noPlain.plain_text).toBeUndefined();
  expect((await hw.post('decrypt-datakey', { key_id: keyId, cipher_text: noPlain.cipher_text, datakey_cipher_length: 16 })).data_key).toMatch(/^[0-9A-F]{32}$/);

  // The document's example: a 64-byte data key followed by its SHA-256 digest, lower-case hex.
  const mine = crypto.randomBytes(64);
  const enc = await hw.post('encrypt-datakey', { key_id: keyId, plain_text: withDigest(mine), datakey_plain_length: '64', encryption_context: ctx });
  expect(enc).toMatchObject({ key_id: keyId, cipher_text: expect.stringMatching(/^[0-9A-F]+$/), datakey_length: '64' });
  const back = await hw.post('decrypt-datakey', { key_id: keyId, cipher_text: enc.cipher_text.toLowerCase(), datakey_cipher_length: '64', encryption_context: ctx });
  expect(Buffer.from(back.data_key, 'hex')).toEqual(mine);
});

it('encrypts and decrypts data, the ciphertext in base64', async () => {
  const keyId = await createKey(hw, 'hw_data');
  const text = 'données secrètes 中文 \u{1F511}';
  const enc = await hw.post('encrypt-data', { key_id: keyId, plain_text: text, encryption_context: { purpose: 'test' } });
  expect(enc.key_id).toBe(keyId);
  expect(Buffer.from(enc.cipher_text, 'base64').toString('base64')).toBe(enc.cipher_text);
  const dec = await hw.post('decrypt-data', { cipher_text: enc.cipher_text, encryption_context: { purpose: 'test' } });
  expect(dec).toMatchObject({ key_id: keyId, plain_text: text, plain_text_base64: Buffer.from(text).toString('base64') });
  // 4096 bytes, the most a request may bring.
  const longest = 'x'.repeat(4096);
  expect((await hw.post('decrypt-data', { cipher_text: (await hw.post('encrypt-data', { key_id: keyId, plain_text: longest })).cipher_text })).plain_text).toBe(longest);
});

it('counts the instances of the project and reports the quota', async () => {
  const own = await kms.createAccount('hw-count');
  const c = HuaweiClient.of(kms.endpoint, own);
  const sh = HuaweiClient.of(kms.endpoint, own, { region: 'ap-shanghai' });
  await createKey(c, 'c1');
  await createKey(c, 'c2');
  await createKey(sh, 'c3');
  expect(await c.get('user-instances')).toMatchObject({ instance_num: 2 });
  expect(await sh.get('user-instances')).toMatchObject({ instance_num: 1 });
  // The quota counts the account's keys in every project.
  expect((await c.get('user-quotas')).quotas).toEqual({ resources: [{ type: 'CMK', used: 3, quota: 10000 }, { type: 'grant_per_CMK', used: 0, quota: 0 }] });
});

it("records the face's calls in the audit trail, named by the core's operations", async () => {
  const keyId = await createKey(hw, 'hw_audited');
  await hw.post('encrypt-data', { key_id: keyId, plain_text: 'audited' });
  const lines = await waitForRecords(kms.env, (l) => l.some((x) => x.action === 'Encrypt' && x.keys.some((k) => k.keyId === keyId)));
  const mine = lines.filter((l) => l.keys.some((k) => k.keyId === keyId));
  expect(mine.map((l) => l.action).sort()).toEqual(['CreateKey', 'Encrypt']);
  for (const l of mine) expect(l).toMatchObject({ face: 'huawei', account: cred.Uin, secretId: cred.SecretId, result: 'Success', requestId: expect.stringMatching(/^[0-9a-f]{32}$/) });
});

// Last: after every other test of the file. (Tags and import are tested with their modules.)
it('answered every key, data key and data endpoint as its OpenAPI schema says', () => {
  const endpoints = [
    'POST create-key', 'POST enable-key', 'POST disable-key', 'POST schedule-key-deletion', 'POST cancel-key-deletion', 'POST list-keys', 'POST describe-key',
    'POST gen-random', 'POST create-datakey', 'POST create-datakey-without-plaintext', 'POST encrypt-datakey', 'POST decrypt-datakey',
    'GET user-instances', 'GET user-quotas', 'POST update-key-alias', 'POST update-key-description', 'POST encrypt-data', 'POST decrypt-data',
  ];
  expect([...answered].sort()).toEqual(endpoints.sort());
});

import * as crypto from 'node:crypto';
import { HuaweiClient, codeOf, failureOf, rawRequest, withDigest } from './support/huawei-client';
import { Credential, KmsService } from './support/kms-service';

/**
 * Every error code of the REST face that bad input can cause, with its HTTP status (appendix
 * A.2) and the body the SDK reads; never a 5xx. Authentication, projects, policies, quotas and
 * rate limits are in huawei-auth.e2e.test.ts.
 */
let kms: KmsService;
let cred: Credential;
let hw: HuaweiClient;
let keyId: string;
let path: (name: string) => string;

beforeAll(async () => {
  kms = await KmsService.start();
  cred = await kms.createAccount('hw-errors');
  hw = HuaweiClient.of(kms.endpoint, cred);
  keyId = (await hw.post('create-key', { key_alias: 'errors_key' })).key_info.key_id;
  path = (name) => `/v1.0/${hw.projectId}/kms/${name}`;
});
afterAll(() => kms.stop());

const fresh = async (alias: string): Promise<string> => (await hw.post('create-key', { key_alias: alias })).key_info.key_id;
const UNKNOWN_KEY = '0d0466b0-e727-4d9c-b35d-f84bb474a37f';

describe('requests', () => {
  it('KMS.0201: an unknown path, or a known one with another method', async () => {
    expect(await codeOf(hw.post('no-such-endpoint'))).toBe('400 KMS.0201');
    expect(await codeOf(hw.get('create-key'))).toBe('400 KMS.0201');
    expect((await rawRequest(kms.endpoint, cred, 'PUT', path('create-key'), '{}')).body).toMatchObject({ error_code: 'KMS.0201' });
    expect((await rawRequest(kms.endpoint, cred, 'POST', '/v1.0/kms/create-key', '{}')).status).toBe(400);
    expect((await rawRequest(kms.endpoint, cred, 'POST', `/v1.0/%zz/kms/create-key`, '{}')).body.error_code).toBe('KMS.0201');
  });

  it('answers errors in both the documented and the flat form', async () => {
    const r = await rawRequest(kms.endpoint, cred, 'POST', path('describe-key'), '{}');
    expect(r.status).toBe(400);
    expect(r.headers['content-type']).toBe('application/json');
    expect(r.headers['x-request-id']).toMatch(/^[0-9a-f]{32}$/);
    expect(r.body).toEqual({ error: { error_code: 'KMS.0204', error_msg: 'key_id is required' }, error_code: 'KMS.0204', error_msg: 'key_id is required' });
    const f = await failureOf(hw.post('describe-key', {}));
    expect(f).toEqual({ status: 400, code: 'KMS.0204', msg: 'key_id is required' });
  });

  it('KMS.0202: a body that is not JSON, or not a JSON object', async () => {
    for (const body of ['{"key_id":', 'not json', '[1,2]', '"text"', 'null']) {
      const r = await rawRequest(kms.endpoint, cred, 'POST', path('describe-key'), body);
      expect([body, r.status, r.body.error_code]).toEqual([body, 400, 'KMS.0202']);
    }
  });

  it('KMS.0203: a body over 64 KB, declared or sent', async () => {
    const r = await rawRequest(kms.endpoint, cred, 'POST', path('encrypt-data'), JSON.stringify({ key_id: keyId, plain_text: 'x'.repeat(70_000) }));
    expect([r.status, r.body.error_code]).toEqual([400, 'KMS.0203']);
  });

  it('KMS.0204: a required field missing (or null)', async () => {
    expect(await codeOf(hw.post('create-key', {}))).toBe('400 KMS.0204');
    expect(await codeOf(hw.post('schedule-key-deletion', { key_id: keyId }))).toBe('400 KMS.0204');
    expect(await codeOf(hw.post('encrypt-data', { key_id: keyId, plain_text: null }))).toBe('400 KMS.0204');
    expect(await codeOf(hw.post('encrypt-datakey', { key_id: keyId, plain_text: withDigest(Buffer.alloc(16)) }))).toBe('400 KMS.0204');
  });

  it('KMS.0205: a key id of the wrong form, or of no key of the project', async () => {
    expect(await codeOf(hw.post('describe-key', { key_id: 'nope' }))).toBe('400 KMS.0205');
    expect(await codeOf(hw.post('describe-key', { key_id: keyId.toUpperCase() }))).toBe('400 KMS.0205');
    expect(await codeOf(hw.post('describe-key', { key_id: 42 }))).toBe('400 KMS.0205');
    expect(await codeOf(hw.post('describe-key', { key_id: UNKNOWN_KEY }))).toBe('400 KMS.0205');
    expect(await codeOf(hw.post('encrypt-data', { key_id: UNKNOWN_KEY, plain_text: 'x' }))).toBe('400 KMS.0205');
  });

  it('KMS.0206: a sequence that is not 36 bytes', async () => {
    expect(await codeOf(hw.post('describe-key', { key_id: keyId, sequence: 'short' }))).toBe('400 KMS.0206');
    expect(await codeOf(hw.post('describe-key', { key_id: keyId, sequence: 7 }))).toBe('400 KMS.0206');
  });

  it('KMS.0208: an encryption context that is not key/value strings, or too long', async () => {
    expect(await codeOf(hw.post('encrypt-data', { key_id: keyId, plain_text: 'x', encryption_context: { a: 1 } }))).toBe('400 KMS.0208');
    expect(await codeOf(hw.post('encrypt-data', { key_id: keyId, plain_text: 'x', encryption_context: 'a=1' }))).toBe('400 KMS.0208');
    expect(await codeOf(hw.post('encrypt-data', { key_id: keyId, plain_text: 'x', encryption_context: ['a'] }))).toBe('400 KMS.0208');
    // At most 8192 characters as JSON, where the other face allows 1024.
    expect(await codeOf(hw.post('create-datakey', { key_id: keyId, encryption_context: { a: 'v'.repeat(8200) } }))).toBe('400 KMS.0208');
    const long = { a: 'v'.repeat(8000) };
    const c = (await hw.post('encrypt-data', { key_id: keyId, plain_text: 'x', encryption_context: long })).cipher_text;
    expect((await hw.post('decrypt-data', { cipher_text: c, encryption_context: long })).plain_text).toBe('x');
  });

  it('KMS.0308: an unknown field, a value of the wrong type or out of range, a body where none is taken', async () => {
    expect(await codeOf(hw.post('describe-key', { key_id: keyId, KeyId: keyId }))).toBe('400 KMS.0308');
    expect(await codeOf(hw.post('create-key', { key_alias: 'o', origin: 'KMS' }))).toBe('400 KMS.0308');
    expect(await codeOf(hw.post('create-key', { key_alias: 'o', enterprise_project_id: 'x' }))).toBe('400 KMS.0308');
    expect(await codeOf(hw.post('create-datakey', { key_id: keyId, key_spec: 'AES_512' }))).toBe('400 KMS.0308');
    expect(await codeOf(hw.post('list-keys', { key_state: '6' }))).toBe('400 KMS.0308');
    // 1500 characters, 4500 bytes once UTF-8 encoded.
    expect(await codeOf(hw.post('encrypt-data', { key_id: keyId, plain_text: '中'.repeat(1500) }))).toBe('400 KMS.0308');
    expect(await codeOf(hw.post('encrypt-data', { key_id: keyId, plain_text: '' }))).toBe('400 KMS.0308');
    expect(await codeOf(hw.post('encrypt-data', { key_id: keyId, plain_text: 'x'.repeat(4097) }))).toBe('400 KMS.0308');
    const r = await rawRequest(kms.endpoint, cred, 'GET', path('user-instances'), '{}');
    expect([r.status, r.body.error_code]).toEqual([400, 'KMS.0308']);
  });
});

describe('keys', () => {
  it('KMS.1101: an alias of the wrong form, reserved or too long to store', async () => {
    for (const alias of ['', 'has-dash', 'spa ce', 'x/default', 'a'.repeat(61), 'a'.repeat(256)]) expect([alias, await codeOf(hw.post('create-key', { key_alias: alias }))]).toEqual([alias, '400 KMS.1101']);
    expect(await codeOf(hw.post('update-key-alias', { key_id: keyId, key_alias: 'team/default' }))).toBe('400 KMS.1101');
  });

  it('KMS.1103: a description over 255 characters', async () => {
    expect(await codeOf(hw.post('create-key', { key_alias: 'd', key_description: 'd'.repeat(256) }))).toBe('400 KMS.1103');
    expect(await codeOf(hw.post('update-key-description', { key_id: keyId, key_description: 'd'.repeat(256) }))).toBe('400 KMS.1103');
  });

  it('KMS.1104: an alias in use', async () => {
    expect(await codeOf(hw.post('create-key', { key_alias: 'errors_key' }))).toBe('400 KMS.1104');
    const other = await fresh('errors_other');
    expect(await codeOf(hw.post('update-key-alias', { key_id: other, key_alias: 'errors_key' }))).toBe('400 KMS.1104');
  });

  it('KMS.0209, KMS.1201, KMS.1301: using a disabled key, enabling an enabled one, disabling a disabled one', async () => {
    const k = await fresh('errors_states');
    expect(await codeOf(hw.post('enable-key', { key_id: k }))).toBe('400 KMS.1201');
    // Deletion is scheduled only for disabled keys.
    expect(await codeOf(hw.post('schedule-key-deletion', { key_id: k, pending_days: '7' }))).toBe('400 KMS.1201');
    await hw.post('disable-key', { key_id: k });
    expect(await codeOf(hw.post('disable-key', { key_id: k }))).toBe('400 KMS.1301');
    expect(await codeOf(hw.post('encrypt-data', { key_id: k, plain_text: 'x' }))).toBe('400 KMS.0209');
    expect(await codeOf(hw.post('create-datakey', { key_id: k }))).toBe('400 KMS.0209');
    const external = (await hw.post('create-key', { key_alias: 'errors_external', origin: 'external' })).key_info.key_id;
    expect(await codeOf(hw.post('encrypt-data', { key_id: external, plain_text: 'x' }))).toBe('400 KMS.1301');
    expect(await codeOf(hw.post('disable-key', { key_id: external }))).toBe('400 KMS.1301');
  });

  it('KMS.0210, KMS.1402, KMS.1501: a key pending deletion, scheduled again, and a cancellation of none', async () => {
    const k = await fresh('errors_doomed');
    const blob = (await hw.post('encrypt-data', { key_id: k, plain_text: 'x' })).cipher_text;
    expect(await codeOf(hw.post('cancel-key-deletion', { key_id: k }))).toBe('400 KMS.1501');
    await hw.post('disable-key', { key_id: k });
    await hw.post('schedule-key-deletion', { key_id: k, pending_days: '7' });
    expect(await codeOf(hw.post('schedule-key-deletion', { key_id: k, pending_days: '7' }))).toBe('400 KMS.1402');
    expect(await codeOf(hw.post('encrypt-data', { key_id: k, plain_text: 'x' }))).toBe('400 KMS.0210');
    expect(await codeOf(hw.post('decrypt-data', { cipher_text: blob }))).toBe('400 KMS.0210');
    expect(await codeOf(hw.post('enable-key', { key_id: k }))).toBe('400 KMS.0210');
    expect(await codeOf(hw.post('disable-key', { key_id: k }))).toBe('400 KMS.0210');
    expect(await codeOf(hw.post('update-key-alias', { key_id: k, key_alias: 'errors_doomed2' }))).toBe('400 KMS.0210');
    expect(await codeOf(hw.post('update-key-description', { key_id: k, key_description: 'late' }))).toBe('400 KMS.0210');
  });

  it('KMS.1401: a deletion window outside 7..1096 days', async () => {
    for (const days of ['6', '1097', '0', '-7', 'seven', '7.5', 30.5]) expect([days, await codeOf(hw.post('schedule-key-deletion', { key_id: keyId, pending_days: days }))]).toEqual([days, '400 KMS.1401']);
  });

  it('KMS.1601, KMS.1602: a page limit outside 1..1000, a marker that is not a whole number', async () => {
    for (const limit of ['0', '1001', 'ten', -1]) expect([limit, await codeOf(hw.post('list-keys', { limit }))]).toEqual([limit, '400 KMS.1601']);
    for (const marker of ['-1', 'next', 1.5]) expect([marker, await codeOf(hw.post('list-keys', { marker }))]).toEqual([marker, '400 KMS.1602']);
  });
});

describe('random data and data keys', () => {
  it('KMS.1801: a random length that is not a multiple of 8 from 8 to 8192 bits', async () => {
    for (const n of ['0', '7', '12', '8200', 'many']) expect([n, await codeOf(hw.post('gen-random', { random_data_length: n }))]).toEqual([n, '400 KMS.1801']);
  });

  it('KMS.1901: a data key length that is not a multiple of 8 from 8 to 8192 bits', async () => {
    for (const n of ['0', '12', '8200']) {
      expect(await codeOf(hw.post('create-datakey', { key_id: keyId, datakey_length: n }))).toBe('400 KMS.1901');
      expect(await codeOf(hw.post('create-datakey-without-plaintext', { key_id: keyId, datakey_length: n }))).toBe('400 KMS.1901');
    }
  });

  it('KMS.2101, KMS.2102, KMS.2103: a data key to encrypt that is not hex, of another length, or with a wrong digest', async () => {
    const dk = crypto.randomBytes(32);
    expect(await codeOf(hw.post('encrypt-datakey', { key_id: keyId, plain_text: 'zz' + withDigest(dk).slice(2), datakey_plain_length: '32' }))).toBe('400 KMS.2101');
    expect(await codeOf(hw.post('encrypt-datakey', { key_id: keyId, plain_text: withDigest(dk).slice(1), datakey_plain_length: '32' }))).toBe('400 KMS.2101');
    expect(await codeOf(hw.post('encrypt-datakey', { key_id: keyId, plain_text: withDigest(dk), datakey_plain_length: '16' }))).toBe('400 KMS.2102');
    expect(await codeOf(hw.post('encrypt-datakey', { key_id: keyId, plain_text: withDigest(dk), datakey_plain_length: '1025' }))).toBe('400 KMS.2102');
    const wrongDigest = dk.toString('hex') + crypto.createHash('sha256').update('other').digest('hex');
    expect(await codeOf(hw.post('encrypt-datakey', { key_id: keyId, plain_text: wrongDigest, datakey_plain_length: '32' }))).toBe('400 KMS.2103');
  });

  it('KMS.2201, KMS.2202: a data key ciphertext that is not hex, forged, of another key or context, or of another length', async () => {
    const dk = await hw.post('create-datakey', { key_id: keyId, encryption_context: { a: 'b' } });
    const open = (cipher_text: string, extra: Record<string, unknown> = {}) => codeOf(hw.post('decrypt-datakey', { key_id: keyId, cipher_text, datakey_cipher_length: '32', encryption_context: { a: 'b' }, ...extra }));
    expect(await open('not hex')).toBe('400 KMS.2201');
    expect(await open('ABCD')).toBe('400 KMS.2201');
    const forged = Buffer.from(dk.cipher_text, 'hex');
    forged[forged.length - 1] ^= 1;
    expect(await open(forged.toString('hex'))).toBe('400 KMS.2201');
    expect(await open(dk.cipher_text, { encryption_context: { a: 'c' } })).toBe('400 KMS.2201');
    const other = await fresh('errors_other_dk');
    expect(await open(dk.cipher_text, { key_id: other })).toBe('400 KMS.2201');
    expect(await open(dk.cipher_text, { datakey_cipher_length: '16' })).toBe('400 KMS.2202');
    expect(await open(dk.cipher_text, { datakey_cipher_length: '0' })).toBe('400 KMS.2202');
  });

  it('KMS.2201: data ciphertexts that are not base64, forged, or of another context', async () => {
    const c = (await hw.post('encrypt-data', { key_id: keyId, plain_text: 'data', encryption_context: { k: 'v' } })).cipher_text as string;
    expect(await codeOf(hw.post('decrypt-data', { cipher_text: 'not base64!' }))).toBe('400 KMS.2201');
    expect(await codeOf(hw.post('decrypt-data', { cipher_text: Buffer.from('short').toString('base64') }))).toBe('400 KMS.2201');
    const forged = Buffer.from(c, 'base64');
    forged[40] ^= 1;
    expect(await codeOf(hw.post('decrypt-data', { cipher_text: forged.toString('base64'), encryption_context: { k: 'v' } }))).toBe('400 KMS.2201');
    expect(await codeOf(hw.post('decrypt-data', { cipher_text: c }))).toBe('400 KMS.2201');
  });
});

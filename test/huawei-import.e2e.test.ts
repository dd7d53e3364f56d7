import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { newMaterial, openBlob, wrapMaterial } from './support/byok';
import { HuaweiClient, Json, codeOf, failureOf, rawRequest } from './support/huawei-client';
import { Credential, KmsService } from './support/kms-service';
import { answerChecker } from './support/openapi-answers';
import { b64, kmsClient } from './support/tencent-client';

/**
 * BYOK through the REST face: get-parameters-for-import, material wrapped with the import
 * guide's openssl command lines, import-key-material, delete-imported-key-material; the same
 * key imported through one face used through the other; every import error code with its
 * HTTP status.
 */
let kms: KmsService;
let cred: Credential;
let hw: HuaweiClient;
let answers: ReturnType<typeof answerChecker>;
let work: string;
const UNKNOWN_KEY = '0d0466b0-e727-4d9c-b35d-f84bb474a37f';
/** As measured on SoftHSM 2.6 (see import.e2e.test.ts): OAEP with SHA-256 is refused. */
const SUPPORTED = ['RSAES_PKCS1_V1_5', 'RSAES_OAEP_SHA_1'];

beforeAll(async () => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'kms-hw-byok-'));
  kms = await KmsService.start({ env: { KMS_RATE_LIMITS: 'off' } });
  cred = await kms.createAccount('hw-byok');
  hw = HuaweiClient.of(kms.endpoint, cred);
  // Every answer of this file must be what the OpenAPI document says it is.
  answers = answerChecker((await rawRequest(kms.endpoint, undefined, 'GET', '/_kms/openapi/huawei.json')).body);
  HuaweiClient.onAnswer = (method, name, body) => expect(answers.check(method, name, body)).toEqual([]);
});
afterAll(async () => {
  await kms.stop();
  fs.rmSync(work, { recursive: true, force: true });
});

const externalKey = async (alias: string): Promise<string> => (await hw.post('create-key', { key_alias: alias, origin: 'external' })).key_info.key_id;
const params = (keyId: string, wrapping_algorithm = 'RSAES_OAEP_SHA_1'): Promise<Json> => hw.post('get-parameters-for-import', { key_id: keyId, wrapping_algorithm });
const state = async (keyId: string): Promise<string> => (await hw.post('describe-key', { key_id: keyId })).key_info.key_state;
const now = () => Math.floor(Date.now() / 1000);

/** Parameters for the key, and its material (`bytes` random bytes, or `material`) wrapped for them. */
async function wrapped(keyId: string, opts: { algorithm?: string; bytes?: number; material?: { dir: string; material: Buffer } } = {}) {
  const algorithm = opts.algorithm ?? 'RSAES_OAEP_SHA_1';
  const p = await params(keyId, algorithm);
  const m = opts.material ?? newMaterial(work, opts.bytes ?? 32);
  return { token: p.import_token as string, material: m, encrypted: wrapMaterial(m.dir, p.public_key, algorithm) };
}
const importing = (keyId: string, w: { token: string; encrypted: string }, extra: Json = {}) =>
  hw.post('import-key-material', { key_id: keyId, import_token: w.token, encrypted_key_material: w.encrypted, ...extra });

describe('import', () => {
  it.each(SUPPORTED)('imports material wrapped with %s; the key encrypts what the owner can open', async (algorithm) => {
    const keyId = await externalKey(`byok_${algorithm.toLowerCase()}`);
    expect(await state(keyId)).toBe('5');
    const p = await params(keyId, algorithm);
    expect(p).toMatchObject({ key_id: keyId, import_token: expect.stringMatching(/^[A-Za-z0-9+/=]+$/), expiration_time: expect.stringMatching(/^\d+$/) });
    const exp = Number(p.expiration_time);
    expect(exp).toBeGreaterThan(now() + 86_400 - 60);
    expect(exp).toBeLessThanOrEqual(now() + 86_400 + 1);
    // An RSA-2048 public key, SubjectPublicKeyInfo DER in base64.
    expect(crypto.createPublicKey({ key: Buffer.from(p.public_key, 'base64'), format: 'der', type: 'spki' }).asymmetricKeyDetails!.modulusLength).toBe(2048);
    const m = newMaterial(work, 32);
    expect(await hw.post('import-key-material', { key_id: keyId, import_token: p.import_token, encrypted_key_material: wrapMaterial(m.dir, p.public_key, algorithm) })).toEqual({ httpStatusCode: 200 });
    expect((await hw.post('describe-key', { key_id: keyId })).key_info).toMatchObject({ key_state: '2', origin: 'external', expiration_time: '' });
    const sealed = await hw.post('encrypt-data', { key_id: keyId, plain_text: `imported with ${algorithm}` });
    expect(openBlob(sealed.cipher_text, m.material).toString()).toBe(`imported with ${algorithm}`);
    expect((await hw.post('decrypt-data', { cipher_text: sealed.cipher_text })).plain_text).toBe(`imported with ${algorithm}`);
  });

  it('sets the material’s expiration, and renews it with the same material', async () => {
    const keyId = await externalKey('byok_expiring');
    const first = await wrapped(keyId);
    const at = now() + 3600;
    await importing(keyId, first, { expiration_time: String(at) });
    expect((await hw.post('describe-key', { key_id: keyId })).key_info).toMatchObject({ key_state: '2', expiration_time: String(at * 1000) });
    const again = await wrapped(keyId, { material: first.material });
    await importing(keyId, again, { expiration_time: at + 60 });
    expect((await hw.post('describe-key', { key_id: keyId })).key_info.expiration_time).toBe(String((at + 60) * 1000));
  });

  it('deletes the material (the key waits for import again), and takes back only the same material', async () => {
    const keyId = await externalKey('byok_deleted');
    const first = await wrapped(keyId);
    await importing(keyId, first);
    const sealed = (await hw.post('encrypt-data', { key_id: keyId, plain_text: 'before deletion' })).cipher_text;
    expect(await hw.post('delete-imported-key-material', { key_id: keyId })).toEqual({ httpStatusCode: 200 });
    expect(await state(keyId)).toBe('5');
    expect(await codeOf(hw.post('decrypt-data', { cipher_text: sealed }))).not.toBe('OK');
    expect(await codeOf(importing(keyId, await wrapped(keyId)))).toBe('400 KMS.2606');
    await importing(keyId, await wrapped(keyId, { material: first.material }));
    expect((await hw.post('decrypt-data', { cipher_text: sealed })).plain_text).toBe('before deletion');
  });
});

describe('both faces', () => {
  it('decrypts through the Action API what a key imported here encrypts, and the reverse', async () => {
    const tc = kmsClient(kms.endpoint, cred);
    const viaHw = await externalKey('byok_both_hw');
    await importing(viaHw, await wrapped(viaHw));
    const fromHw = (await hw.post('encrypt-data', { key_id: viaHw, plain_text: 'rest to actions' })).cipher_text;
    expect(Buffer.from((await tc.Decrypt({ CiphertextBlob: fromHw })).Plaintext!, 'base64').toString()).toBe('rest to actions');

    const viaTc = (await tc.CreateKey({ Alias: 'byok_both_tc', Type: 2 })).KeyId!;
    const p = await tc.GetParametersForImport({ KeyId: viaTc, WrappingAlgorithm: 'RSAES_PKCS1_V1_5', WrappingKeySpec: 'RSA_2048' });
    const m = newMaterial(work, 32);
    await tc.ImportKeyMaterial({ KeyId: viaTc, ImportToken: p.ImportToken!, EncryptedKeyMaterial: wrapMaterial(m.dir, p.PublicKey!, 'RSAES_PKCS1_V1_5') });
    const fromTc = (await tc.Encrypt({ KeyId: viaTc, Plaintext: b64('actions to rest') })).CiphertextBlob!;
    expect((await hw.post('decrypt-data', { cipher_text: fromTc })).plain_text).toBe('actions to rest');
    // Material deleted through one face is gone for the other.
    await hw.post('delete-imported-key-material', { key_id: viaTc });
    expect((await tc.DescribeKey({ KeyId: viaTc })).KeyMetadata!.KeyState).toBe('PendingImport');
  });
});

describe('errors', () => {
  it('KMS.0204 and KMS.0205: a missing field, a key id of the wrong form or of no key of the project', async () => {
    expect(await codeOf(hw.post('get-parameters-for-import', { key_id: UNKNOWN_KEY }))).toBe('400 KMS.0204');
    expect(await codeOf(hw.post('import-key-material', { key_id: UNKNOWN_KEY, import_token: 'abc' }))).toBe('400 KMS.0204');
    expect(await codeOf(hw.post('delete-imported-key-material', {}))).toBe('400 KMS.0204');
    expect(await codeOf(params('nope'))).toBe('400 KMS.0205');
    expect(await codeOf(params(UNKNOWN_KEY))).toBe('400 KMS.0205');
    expect(await codeOf(hw.post('delete-imported-key-material', { key_id: UNKNOWN_KEY }))).toBe('400 KMS.0205');
    const stranger = HuaweiClient.of(kms.endpoint, await kms.createAccount('hw-byok-stranger'));
    const keyId = await externalKey('byok_not_theirs');
    expect(await codeOf(stranger.post('get-parameters-for-import', { key_id: keyId, wrapping_algorithm: 'RSAES_OAEP_SHA_1' }))).toBe('400 KMS.0205');
  });

  it('KMS.0308: an unknown or unsupported wrapping algorithm, material of the wrong form', async () => {
    const keyId = await externalKey('byok_bad_input');
    expect(await codeOf(params(keyId, 'RSAES_OAEP_SHA_512'))).toBe('400 KMS.0308');
    const f = await failureOf(params(keyId, 'RSAES_OAEP_SHA_256'));
    expect(f).toMatchObject({ status: 400, code: 'KMS.0308', msg: expect.stringContaining(`cannot unwrap with RSAES_OAEP_SHA_256; it supports ${SUPPORTED.join(', ')}`) });
    const w = await wrapped(keyId);
    for (const encrypted of ['A'.repeat(340), 'A'.repeat(364), '*'.repeat(344), 'A'.repeat(345)]) expect(await codeOf(importing(keyId, { ...w, encrypted }))).toBe('400 KMS.0308');
  });

  it('KMS.0309: import endpoints on a key whose material KMS made', async () => {
    const keyId = (await hw.post('create-key', { key_alias: 'byok_kms_origin' })).key_info.key_id;
    expect(await codeOf(params(keyId))).toBe('400 KMS.0309');
    expect(await codeOf(hw.post('delete-imported-key-material', { key_id: keyId }))).toBe('400 KMS.0309');
  });

  it('KMS.0310: material for a key neither pending import nor enabled', async () => {
    const keyId = await externalKey('byok_disabled');
    const first = await wrapped(keyId);
    await importing(keyId, first);
    await hw.post('disable-key', { key_id: keyId });
    expect(await codeOf(importing(keyId, await wrapped(keyId, { material: first.material })))).toBe('400 KMS.0310');
  });

  it('KMS.0311: material that does not decrypt with the wrapping key, or is not 256 bits', async () => {
    const keyId = await externalKey('byok_undecryptable');
    const w = await wrapped(keyId);
    expect(await codeOf(importing(keyId, { ...w, encrypted: crypto.randomBytes(256).toString('base64') }))).toBe('400 KMS.0311');
    // A 128-bit material answers as undecryptable material does (not KMS.2604): telling them
    // apart would make PKCS#1 v1.5 unwrapping a padding oracle.
    expect(await codeOf(importing(keyId, await wrapped(keyId, { bytes: 16 })))).toBe('400 KMS.0311');
    expect(await state(keyId)).toBe('5');
  });

  it('KMS.2601: an import token that a newer get-parameters-for-import replaced', async () => {
    const keyId = await externalKey('byok_replaced');
    const old = await wrapped(keyId);
    await params(keyId);
    expect(await codeOf(importing(keyId, old))).toBe('400 KMS.2601');
  });

  it('KMS.2602: an expiration time not after now, or past the largest allowed', async () => {
    const keyId = await externalKey('byok_expired_time');
    const w = await wrapped(keyId);
    for (const expiration_time of [String(now() - 10), '1', '2147443201']) expect(await codeOf(importing(keyId, w, { expiration_time }))).toBe('400 KMS.2602');
    expect(await codeOf(importing(keyId, w, { expiration_time: 'soon' }))).toBe('400 KMS.2602');
    // The refusals used up nothing: the token still imports.
    await importing(keyId, w);
    expect(await state(keyId)).toBe('2');
  });

  it('KMS.2603: an import token of another key', async () => {
    const a = await externalKey('byok_token_a');
    const b = await externalKey('byok_token_b');
    const forA = await wrapped(a);
    await params(b);
    expect(await codeOf(importing(b, forA))).toBe('400 KMS.2603');
    // A key without parameters of its own, too.
    const c = await externalKey('byok_token_c');
    expect(await codeOf(importing(c, forA))).toBe('400 KMS.2603');
    await importing(a, forA);
    expect(await state(a)).toBe('2');
  });

  it('KMS.2605: an import token that is not base64 text', async () => {
    const keyId = await externalKey('byok_bad_token');
    const w = await wrapped(keyId);
    for (const token of ['not base64!', '', 'A'.repeat(6145)]) expect(await codeOf(importing(keyId, { ...w, token }))).toBe('400 KMS.2605');
    expect(await codeOf(importing(keyId, { ...w, token: 42 as never }))).toBe('400 KMS.2605');
  });

  it('KMS.2701: deleting material of a key pending import or pending deletion', async () => {
    const pending = await externalKey('byok_nothing_to_delete');
    expect(await codeOf(hw.post('delete-imported-key-material', { key_id: pending }))).toBe('400 KMS.2701');
    const doomed = await externalKey('byok_doomed');
    await importing(doomed, await wrapped(doomed));
    await hw.post('disable-key', { key_id: doomed });
    await hw.post('schedule-key-deletion', { key_id: doomed, pending_days: '7' });
    expect(await codeOf(hw.post('delete-imported-key-material', { key_id: doomed }))).toBe('400 KMS.2701');
    expect(await codeOf(params(doomed))).toBe('400 KMS.0210');
  });
});

// Last: after every other test of the file.
it('answered each endpoint this file is about, as its OpenAPI schema says', () => {
  expect([...answers.answered]).toEqual(expect.arrayContaining(['POST get-parameters-for-import', 'POST import-key-material', 'POST delete-imported-key-material']));
});

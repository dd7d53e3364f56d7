import * as crypto from 'node:crypto';
import * as path from 'node:path';
import { DataSource, DataSourceOptions } from 'typeorm';
import { sql } from './support/audit-db';
import { HuaweiClient, failureOf } from './support/huawei-client';
import { HuksRaw, TAG, aesProps, gcmProps, props } from './support/huks-raw';
import { Credential, KmsService } from './support/kms-service';
import { b64, codeOf, kmsClient } from './support/tencent-client';

/**
 * The core stores key usages, specs and origins in its own words (migration 1765000000000);
 * each face shows its own. Keys made by the service are put back in the old schema with the
 * old values (the migration's down), and after the upgrade every face reads and uses them as
 * before.
 */
let kms: KmsService;
let cred: Credential;
const ids: Record<string, string> = {};
let sealed = '';

/** The built schema code, as the service runs it (importing src/ would have ts-jest compile the core for this file). */
const { dataSourceOptions } = require(path.resolve(__dirname, '..', 'dist', 'src', 'persistence', 'data-source')) as {
  dataSourceOptions: (cfg: { databaseUrl?: string; dataDir: string }, faces: []) => DataSourceOptions;
};

/** Undoes the service's migrations on its database down to and including the renaming one (the service stopped). */
async function undoRenaming(): Promise<void> {
  const ds = new DataSource(dataSourceOptions({ databaseUrl: kms.env.KMS_DATABASE_URL, dataDir: kms.env.KMS_DATA_DIR }, []));
  await ds.initialize();
  try {
    const applied = async () => (await ds.query('SELECT name FROM migrations')) as Array<{ name: string }>;
    while ((await applied()).some((m) => m.name.startsWith('NeutralKeyKinds'))) await ds.undoLastMigration({ transaction: 'each' });
  } finally {
    await ds.destroy();
  }
}
type Row = { alias: string; key_usage: string; key_spec: string; origin: string };
const rows = (): Promise<Row[]> => sql<Row>(kms.env, 'SELECT alias, key_usage, key_spec, origin FROM cmks ORDER BY alias');
const wrappingSpecs = async (): Promise<string[]> => (await sql<{ wrapping_key_spec: string }>(kms.env, 'SELECT wrapping_key_spec FROM import_parameters')).map((r) => r.wrapping_key_spec);

beforeAll(async () => {
  kms = await KmsService.start();
  cred = await kms.createAccount('key-kind-names');
  const tc = kmsClient(kms.endpoint, cred);
  const make = async (alias: string, more: Record<string, unknown> = {}) => (ids[alias] = (await tc.CreateKey({ Alias: alias, ...more })).KeyId!);
  await make('aes');
  await make('ecc', { KeyUsage: 'ASYMMETRIC_SIGN_VERIFY_ECC' });
  await make('rsa-dec', { KeyUsage: 'ASYMMETRIC_DECRYPT_RSA_2048' });
  await make('ext', { Type: 2 });
  await tc.GetParametersForImport({ KeyId: ids.ext, WrappingAlgorithm: 'RSAES_OAEP_SHA_1', WrappingKeySpec: 'RSA_2048' });
  sealed = (await tc.Encrypt({ KeyId: ids.aes, Plaintext: b64('kept across the upgrade') })).CiphertextBlob!;
  const huks = new HuksRaw(kms.endpoint, cred);
  await huks.generate('mac', props([TAG.ALGORITHM, 50], [TAG.KEY_SIZE, 256], [TAG.PURPOSE, 128]));
  await huks.generate('aes128', aesProps(128, 1 | 2));
  await kms.stopProcess();
  // Back to the schema and values from before the migration.
  await undoRenaming();
  expect(await rows()).toEqual([
    { alias: 'aes', key_usage: 'ENCRYPT_DECRYPT', key_spec: 'AES_256', origin: 'KMS' },
    { alias: 'aes128', key_usage: 'ENCRYPT_DECRYPT', key_spec: 'AES_128', origin: 'KMS' },
    // Key pairs held the default spec before.
    { alias: 'ecc', key_usage: 'ASYMMETRIC_SIGN_VERIFY_ECC', key_spec: 'AES_256', origin: 'KMS' },
    { alias: 'ext', key_usage: 'ENCRYPT_DECRYPT', key_spec: 'AES_256', origin: 'EXTERNAL' },
    { alias: 'mac', key_usage: 'GENERATE_VERIFY_MAC', key_spec: 'HMAC_256', origin: 'KMS' },
    { alias: 'rsa-dec', key_usage: 'ASYMMETRIC_DECRYPT_RSA_2048', key_spec: 'AES_256', origin: 'KMS' },
  ]);
  expect(await wrappingSpecs()).toEqual(['RSA_2048']);
  // The service migrates at start.
  await kms.launch();
}, 120_000);
afterAll(() => kms.stop());

it('renames the stored values to the core words, and gives each key pair its own spec', async () => {
  expect(await rows()).toEqual([
    { alias: 'aes', key_usage: 'aes:encrypt-decrypt', key_spec: 'aes-256', origin: 'generated' },
    { alias: 'aes128', key_usage: 'aes:encrypt-decrypt', key_spec: 'aes-128', origin: 'generated' },
    { alias: 'ecc', key_usage: 'ec-p256:sign', key_spec: 'ec-p256', origin: 'generated' },
    { alias: 'ext', key_usage: 'aes:encrypt-decrypt', key_spec: 'aes-256', origin: 'imported' },
    { alias: 'mac', key_usage: 'hmac:mac', key_spec: 'hmac-256', origin: 'generated' },
    { alias: 'rsa-dec', key_usage: 'rsa-2048:decrypt', key_spec: 'rsa-2048', origin: 'generated' },
  ]);
  expect(await wrappingSpecs()).toEqual(['rsa-2048']);
});

it('shows the Action API its KeyUsage, Origin and filters, and the keys work as before', async () => {
  const tc = kmsClient(kms.endpoint, cred);
  const all = (await tc.ListKeyDetail({ Limit: 200, KeyUsage: 'ALL' })).KeyMetadatas!;
  expect(Object.fromEntries(all.map((k) => [k.Alias, [k.KeyUsage, k.Origin]]))).toEqual({
    aes: ['ENCRYPT_DECRYPT', 'KMS'],
    aes128: ['ENCRYPT_DECRYPT', 'KMS'],
    ecc: ['ASYMMETRIC_SIGN_VERIFY_ECC', 'KMS'],
    ext: ['ENCRYPT_DECRYPT', 'EXTERNAL'],
    mac: ['GENERATE_VERIFY_MAC', 'KMS'],
    'rsa-dec': ['ASYMMETRIC_DECRYPT_RSA_2048', 'KMS'],
  });
  expect((await tc.ListKeyDetail({ KeyUsage: 'ASYMMETRIC_SIGN_VERIFY_ECC' })).KeyMetadatas!.map((k) => k.Alias)).toEqual(['ecc']);
  expect((await tc.ListKeyDetail({ KeyUsage: 'ALL', Origin: 'EXTERNAL' })).KeyMetadatas!.map((k) => k.Alias)).toEqual(['ext']);
  // The default filter is ENCRYPT_DECRYPT, as documented.
  expect((await tc.ListKeyDetail({ Origin: 'KMS' })).KeyMetadatas!.map((k) => k.Alias).sort()).toEqual(['aes', 'aes128']);
  expect(Buffer.from((await tc.Decrypt({ CiphertextBlob: sealed })).Plaintext!, 'base64').toString()).toBe('kept across the upgrade');
  const message = b64('signed after the upgrade');
  const { Signature } = await tc.SignByAsymmetricKey({ KeyId: ids.ecc, Algorithm: 'ECC_P256_R1', Message: message });
  const pem = (await tc.GetPublicKey({ KeyId: ids.ecc })).PublicKeyPem!;
  expect(crypto.verify('sha256', Buffer.from(message, 'base64'), pem, Buffer.from(Signature!, 'base64'))).toBe(true);
  // A pair keeps its usage: the decryption key does not sign, the signing key does not decrypt.
  expect(await codeOf(tc.SignByAsymmetricKey({ KeyId: ids['rsa-dec'], Algorithm: 'RSA_PSS_SHA_256', Message: message }))).toBe('InvalidParameter');
  const refused = tc.AsymmetricRsaDecrypt({ KeyId: ids.ecc, Algorithm: 'RSAES_OAEP_SHA_1', Ciphertext: b64('x'.repeat(256)) });
  await expect(refused).rejects.toMatchObject({ code: 'InvalidParameterValue.InvalidKeyUsage', message: expect.stringContaining('ASYMMETRIC_SIGN_VERIFY_ECC') });
  // The external key's import parameters are still valid: a new set replaces them.
  expect((await tc.GetParametersForImport({ KeyId: ids.ext, WrappingAlgorithm: 'RSAES_OAEP_SHA_1', WrappingKeySpec: 'RSA_2048' })).PublicKey).toBeTruthy();
});

it('shows the REST API its origin, and names key kinds in its words', async () => {
  const hw = HuaweiClient.of(kms.endpoint, cred);
  expect((await hw.post('describe-key', { key_id: ids.aes })).key_info.origin).toBe('kms');
  expect((await hw.post('describe-key', { key_id: ids.ext })).key_info.origin).toBe('external');
  const refused = await failureOf(hw.post('encrypt-data', { key_id: ids.ecc, plain_text: 'x' }));
  expect(refused).toMatchObject({ status: 400, code: 'KMS.0308', msg: expect.stringContaining('EC_P256 SIGN_VERIFY') });
});

it('lets HUKS use its keys by alias at their size, and refuses a key pair in its words', async () => {
  const huks = new HuksRaw(kms.endpoint, cred);
  const mac = await huks.init('mac', props([TAG.ALGORITHM, 50], [TAG.PURPOSE, 128]));
  expect((await huks.finish(mac, Buffer.from('data'))).length).toBe(32);
  const nonce = crypto.randomBytes(12);
  const enc = await huks.init('aes128', gcmProps(1, nonce, Buffer.alloc(0), 128));
  expect((await huks.finish(enc, Buffer.from('hi'))).length).toBe(2 + 16);
  const r = await huks.call('initSession', { keyAlias: 'ecc', options: { properties: gcmProps(1, nonce, Buffer.alloc(0)) }, nonce: crypto.randomUUID() });
  expect(r.body.error).toMatchObject({ code: 12000003, message: expect.stringContaining('HUKS_ALG_ECC') });
});

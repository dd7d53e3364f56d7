import { HuaweiClient, codeOf } from './support/huawei-client';
import { Credential, KmsService } from './support/kms-service';
import { b64, kmsClient } from './support/tencent-client';

/** One core, two faces: a key made through either is the same key through the other. */
let kms: KmsService;
let cred: Credential;

beforeAll(async () => {
  kms = await KmsService.start();
  cred = await kms.createAccount('both-faces');
});
afterAll(() => kms.stop());

it('shows a key made through the REST face to the Action API, with its alias and state, and back', async () => {
  const hw = HuaweiClient.of(kms.endpoint, cred);
  const tc = kmsClient(kms.endpoint, cred);
  const keyId = (await hw.post('create-key', { key_alias: 'shared_key', key_description: 'both' })).key_info.key_id;
  expect((await tc.DescribeKey({ KeyId: keyId })).KeyMetadata).toMatchObject({ KeyId: keyId, Alias: 'shared_key', Description: 'both', KeyState: 'Enabled' });
  await tc.DisableKey({ KeyId: keyId });
  expect((await hw.post('describe-key', { key_id: keyId })).key_info.key_state).toBe('3');
  await hw.post('enable-key', { key_id: keyId });
  await hw.post('update-key-alias', { key_id: keyId, key_alias: 'shared_renamed' });
  expect((await tc.DescribeKey({ KeyId: keyId })).KeyMetadata).toMatchObject({ KeyState: 'Enabled', Alias: 'shared_renamed' });
  // A key made through the Action API, in the same region, is in the project of that region.
  const tcKey = (await tc.CreateKey({ Alias: 'made_by_actions' })).KeyId!;
  expect((await hw.post('describe-key', { key_id: tcKey })).key_info).toMatchObject({ key_alias: 'made_by_actions', key_state: '2', realm: 'ap-guangzhou' });
  expect((await hw.post('list-keys', {})).keys).toEqual(expect.arrayContaining([keyId, tcKey]));
  // A deletion scheduled through one face is cancelled through the other.
  await hw.post('disable-key', { key_id: tcKey });
  await hw.post('schedule-key-deletion', { key_id: tcKey, pending_days: '30' });
  expect((await tc.DescribeKey({ KeyId: tcKey })).KeyMetadata!.KeyState).toBe('PendingDelete');
  await tc.CancelKeyDeletion({ KeyId: tcKey });
  expect((await hw.post('describe-key', { key_id: tcKey })).key_info.key_state).toBe('3');
});

it('opens ciphertexts of either face with the other, encryption context included', async () => {
  const hw = HuaweiClient.of(kms.endpoint, cred);
  const tc = kmsClient(kms.endpoint, cred);
  const keyId = (await hw.post('create-key', { key_alias: 'shared_crypto' })).key_info.key_id;
  const hwCipher = (await hw.post('encrypt-data', { key_id: keyId, plain_text: 'from rest', encryption_context: { b: '2', a: '1' } })).cipher_text;
  const opened = await tc.Decrypt({ CiphertextBlob: hwCipher, EncryptionContext: '{"a":"1","b":"2"}' });
  expect(Buffer.from(opened.Plaintext!, 'base64').toString()).toBe('from rest');

  const tcCipher = (await tc.Encrypt({ KeyId: keyId, Plaintext: b64('from actions'), EncryptionContext: '{"a":"1"}' })).CiphertextBlob!;
  expect(await hw.post('decrypt-data', { cipher_text: tcCipher, encryption_context: { a: '1' } })).toMatchObject({ key_id: keyId, plain_text: 'from actions' });

  // Data keys: hex here, base64 there, the same bytes.
  const dk = await hw.post('create-datakey', { key_id: keyId, datakey_length: '256' });
  const viaActions = await tc.Decrypt({ CiphertextBlob: Buffer.from(dk.cipher_text, 'hex').toString('base64') });
  expect(Buffer.from(viaActions.Plaintext!, 'base64').toString('hex').toUpperCase()).toBe(dk.plain_text);
  const tcDk = await tc.GenerateDataKey({ KeyId: keyId, NumberOfBytes: 32 });
  const viaRest = await hw.post('decrypt-datakey', { key_id: keyId, cipher_text: Buffer.from(tcDk.CiphertextBlob!, 'base64').toString('hex'), datakey_cipher_length: '32' });
  expect(Buffer.from(viaRest.data_key, 'hex')).toEqual(Buffer.from(tcDk.Plaintext!, 'base64'));
});

it('shows a key archived through the Action API as disabled, leaving that state only by CancelKeyArchive', async () => {
  const hw = HuaweiClient.of(kms.endpoint, cred);
  const tc = kmsClient(kms.endpoint, cred);
  const keyId = (await hw.post('create-key', { key_alias: 'archived_key' })).key_info.key_id;
  const blob = (await hw.post('encrypt-data', { key_id: keyId, plain_text: 'kept' })).cipher_text;
  await tc.ArchiveKey({ KeyId: keyId });
  expect((await hw.post('describe-key', { key_id: keyId })).key_info.key_state).toBe('3');
  expect(await codeOf(hw.post('enable-key', { key_id: keyId }))).toBe('400 KMS.1201');
  expect(await codeOf(hw.post('disable-key', { key_id: keyId }))).toBe('400 KMS.1301');
  // An archived key still decrypts.
  expect((await hw.post('decrypt-data', { cipher_text: blob })).plain_text).toBe('kept');
  await tc.CancelKeyArchive({ KeyId: keyId });
  expect((await hw.post('describe-key', { key_id: keyId })).key_info.key_state).toBe('2');
});

import { Credential, KmsService } from './support/kms-service';
import { send, sendFresh, signTc3, signV1 } from './support/signer';
import { b64, codeOf, kmsClient } from './support/tencent-client';

/** Every documented error code of the first actions that this deployment can produce, reached over HTTP. */

let kms: KmsService;
let cred: Credential;
let keyId: string;
let blob: string;

beforeAll(async () => {
  kms = await KmsService.start({ workers: 2 });
  cred = await kms.createAccount('errors');
  const c = kmsClient(kms.endpoint, cred);
  keyId = (await c.CreateKey({ Alias: 'errors-main' })).KeyId!;
  blob = (await c.Encrypt({ KeyId: keyId, Plaintext: b64('hello'), EncryptionContext: '{"a":"1"}' })).CiphertextBlob!;
});
afterAll(() => kms.stop());

const client = () => kmsClient(kms.endpoint, cred);
const tc3 = (action: string, body: unknown, extra: Parameters<typeof signTc3>[2] extends infer T ? Partial<T> : never = {}) =>
  send(signTc3(kms.endpoint, cred, { action, body: JSON.stringify(body), ...extra }));

describe('public (authentication and protocol) errors', () => {
  it('AuthFailure.SecretIdNotFound for an unknown SecretId', async () => {
    expect(await codeOf(kmsClient(kms.endpoint, { SecretId: 'AKID' + 'x'.repeat(32), SecretKey: 'k' }).GetRegions())).toBe('AuthFailure.SecretIdNotFound');
  });
  it('AuthFailure.InvalidSecretId for an id that is no API key id', async () => {
    expect(await codeOf(kmsClient(kms.endpoint, { SecretId: 'not-a-key', SecretKey: 'k' }).GetRegions())).toBe('AuthFailure.InvalidSecretId');
  });
  it.each(['TC3-HMAC-SHA256', 'HmacSHA256', 'HmacSHA1'] as const)('AuthFailure.SignatureFailure for a wrong SecretKey (%s)', async (signMethod) => {
    expect(await codeOf(kmsClient(kms.endpoint, { SecretId: cred.SecretId, SecretKey: 'wrong' }, { signMethod }).GetRegions())).toBe('AuthFailure.SignatureFailure');
  });
  it('AuthFailure.SignatureFailure when the body was changed after signing', async () => {
    const req = signTc3(kms.endpoint, cred, { action: 'GenerateRandom', body: '{"NumberOfBytes":16}' });
    req.init.body = '{"NumberOfBytes":32}';
    expect((await send(req)).code).toBe('AuthFailure.SignatureFailure');
  });
  it('AuthFailure.SignatureFailure when the scope date is not the date of the timestamp', async () => {
    expect((await tc3('GetRegions', {}, { date: '2001-01-01' })).code).toBe('AuthFailure.SignatureFailure');
  });
  it('takes a TC3 scope naming kms or the first label of the Host, and no other service', async () => {
    expect((await tc3('GetRegions', {}, { service: 'kms' })).code).toBeUndefined();
    expect((await tc3('GetRegions', {}, { service: '127' })).code).toBeUndefined();
    const other = await tc3('GetRegions', {}, { service: 'cvm' });
    expect(other.code).toBe('AuthFailure.SignatureFailure');
    expect((other.body.Error as { Message: string }).Message).toContain('"cvm"');
  });
  it('takes v1 SignatureMethod HmacSHA1, HmacSHA256 or none, and refuses any other with InvalidParameter', async () => {
    for (const signatureMethod of [undefined, 'HmacSHA1', 'HmacSHA256']) expect((await send(signV1(kms.endpoint, cred, { signatureMethod, params: { Action: 'GetRegions' } }))).code).toBeUndefined();
    for (const signatureMethod of ['HmacMD5', 'hmacsha256', 'TC3-HMAC-SHA256']) expect((await send(signV1(kms.endpoint, cred, { signatureMethod, params: { Action: 'GetRegions' } }))).code).toBe('InvalidParameter');
  });
  it.each([-310, 310])('AuthFailure.SignatureExpire for a timestamp %i s off (TC3 and v1)', async (off) => {
    const ts = Math.floor(Date.now() / 1000) + off;
    expect((await tc3('GetRegions', {}, { timestamp: ts })).code).toBe('AuthFailure.SignatureExpire');
    expect((await send(signV1(kms.endpoint, cred, { timestamp: ts, params: { Action: 'GetRegions' } }))).code).toBe('AuthFailure.SignatureExpire');
  });
  it('accepts a timestamp 4 minutes off', async () => {
    expect((await tc3('GetRegions', {}, { timestamp: Math.floor(Date.now() / 1000) - 240 })).code).toBeUndefined();
  });
  it('AuthFailure.TokenFailure for temporary credentials', async () => {
    const c = kmsClient(kms.endpoint, cred);
    (c as unknown as { credential: unknown }).credential = { secretId: cred.SecretId, secretKey: cred.SecretKey, token: 'tmp' };
    expect(await codeOf(c.GetRegions())).toBe('AuthFailure.TokenFailure');
  });
  it('refuses a replayed v1 request (same SecretId, Timestamp, Nonce and signature) on every worker', async () => {
    const timestamp = Math.floor(Date.now() / 1000);
    const req = signV1(kms.endpoint, cred, { nonce: 4242, timestamp, params: { Action: 'GenerateRandom', NumberOfBytes: 8 } });
    // Fresh connections are spread over both workers by the cluster's round robin.
    expect((await sendFresh(req)).code).toBeUndefined();
    for (let i = 0; i < 4; i++) {
      const replayed = await sendFresh(req);
      expect(replayed.code).toBe('AuthFailure.SignatureFailure');
      expect((replayed.body.Error as { Message: string }).Message).toMatch(/replay/);
    }
    const otherNonce = signV1(kms.endpoint, cred, { nonce: 4243, timestamp, params: { Action: 'GenerateRandom', NumberOfBytes: 8 } });
    expect((await sendFresh(otherNonce)).code).toBeUndefined();
  });
  it('accepts other requests that share a Timestamp and Nonce: the official SDK draws Nonce from 65536 values', async () => {
    const timestamp = Math.floor(Date.now() / 1000);
    for (const NumberOfBytes of [9, 10, 11]) {
      expect((await sendFresh(signV1(kms.endpoint, cred, { nonce: 4244, timestamp, params: { Action: 'GenerateRandom', NumberOfBytes } }))).code).toBeUndefined();
    }
    // The same request signed with the other method is another signature, so another request.
    for (const signatureMethod of ['HmacSHA1', 'HmacSHA256']) {
      expect((await sendFresh(signV1(kms.endpoint, cred, { nonce: 4245, timestamp, signatureMethod, params: { Action: 'GenerateRandom', NumberOfBytes: 8 } }))).code).toBeUndefined();
    }
  });
  it('InvalidAction for an unknown action', async () => {
    expect((await tc3('MakeCoffee', {})).code).toBe('InvalidAction');
  });
  it('NoSuchVersion for another API version', async () => {
    expect((await tc3('GetRegions', {}, { version: '2017-03-12' })).code).toBe('NoSuchVersion');
  });
  it('UnsupportedRegion for a region not served', async () => {
    expect(await codeOf(kmsClient(kms.endpoint, cred, { region: 'ap-mars' }).ListKeys({}))).toBe('UnsupportedRegion');
  });
  it('MissingParameter without a Region, without a required parameter, or without X-TC-Action', async () => {
    expect((await tc3('ListKeys', {}, { region: null })).code).toBe('MissingParameter');
    expect((await tc3('DescribeKey', {})).code).toBe('MissingParameter');
    const req = signTc3(kms.endpoint, cred, { action: 'GetRegions' });
    delete (req.init.headers as Record<string, string>)['X-TC-Action'];
    expect((await send(req)).code).toBe('MissingParameter');
  });
  it('GetRegions needs no Region', async () => {
    expect((await tc3('GetRegions', {}, { region: null })).body.Regions).toEqual(['ap-guangzhou', 'ap-shanghai']);
  });
  it('UnknownParameter for a parameter the action does not have', async () => {
    expect((await tc3('GenerateRandom', { NumberOfBytes: 4, Colour: 'red' })).code).toBe('UnknownParameter');
  });
  it('UnsupportedProtocol for methods other than GET and POST', async () => {
    for (const method of ['PUT', 'DELETE', 'PATCH']) expect((await send({ url: `http://${kms.endpoint}/`, init: { method } })).code).toBe('UnsupportedProtocol');
  });
});

describe('CreateKey', () => {
  it('InvalidParameterValue.InvalidAlias', async () => {
    for (const Alias of ['', 'has space', '-lead', 'x'.repeat(61), 'kms-reserved', 'ünicode']) expect(await codeOf(client().CreateKey({ Alias }))).toBe('InvalidParameterValue.InvalidAlias');
  });
  it('InvalidParameterValue.AliasAlreadyExists, per account and region', async () => {
    expect(await codeOf(client().CreateKey({ Alias: 'errors-main' }))).toBe('InvalidParameterValue.AliasAlreadyExists');
    expect(await codeOf(kmsClient(kms.endpoint, cred, { region: 'ap-shanghai' }).CreateKey({ Alias: 'errors-main' }))).toBe('OK');
  });
  it('InvalidParameterValue.InvalidKeyUsage', async () => {
    expect(await codeOf(client().CreateKey({ Alias: 'u1', KeyUsage: 'MAKE_TEA' }))).toBe('InvalidParameterValue.InvalidKeyUsage');
  });
  it('UnsupportedOperation.UnsupportedKeyUsageInCurrentRegion for usages the token cannot do (SM2 on SoftHSM)', async () => {
    expect(await codeOf(client().CreateKey({ Alias: 'u2', KeyUsage: 'ASYMMETRIC_DECRYPT_SM2' }))).toBe('UnsupportedOperation.UnsupportedKeyUsageInCurrentRegion');
  });
  it('InvalidParameterValue.InvalidType', async () => {
    expect(await codeOf(client().CreateKey({ Alias: 'u3', Type: 3 }))).toBe('InvalidParameterValue.InvalidType');
  });
  it('InvalidParameterValue.TagsNotExisted and TagKeysDuplicated', async () => {
    expect(await codeOf(client().CreateKey({ Alias: 'u4', Tags: [{ TagKey: 'a', TagValue: '' }] }))).toBe('InvalidParameterValue.TagsNotExisted');
    expect(await codeOf(client().CreateKey({ Alias: 'u5', Tags: [{ TagKey: 'a', TagValue: '1' }, { TagKey: 'a', TagValue: '2' }] }))).toBe('InvalidParameterValue.TagKeysDuplicated');
  });
  it('InvalidParameter for a description over 1024 bytes or a mistyped field', async () => {
    expect(await codeOf(client().CreateKey({ Alias: 'u6', Description: '\u4e2d'.repeat(342) }))).toBe('InvalidParameter');
    expect((await tc3('CreateKey', { Alias: 7 })).code).toBe('InvalidParameter');
  });
  it('LimitExceeded.CmkLimitExceeded past the account quota', async () => {
    const small = await KmsService.start({ env: { KMS_CMK_QUOTA: '2' } });
    try {
      const c = kmsClient(small.endpoint, await small.createAccount('quota'));
      await c.CreateKey({ Alias: 'q1' });
      await c.CreateKey({ Alias: 'q2', Type: 2 });
      expect(await codeOf(c.CreateKey({ Alias: 'q3' }))).toBe('LimitExceeded.CmkLimitExceeded');
    } finally {
      await small.stop();
    }
  });
});

describe('DescribeKey and DescribeKeys', () => {
  it('InvalidParameterValue.InvalidKeyId and ResourceUnavailable.CmkNotFound', async () => {
    expect(await codeOf(client().DescribeKey({ KeyId: 'nope' }))).toBe('InvalidParameterValue.InvalidKeyId');
    expect(await codeOf(client().DescribeKey({ KeyId: '00000000-0000-4000-8000-000000000000' }))).toBe('ResourceUnavailable.CmkNotFound');
    expect(await codeOf(client().DescribeKeys({ KeyIds: [keyId, 'nope'] }))).toBe('InvalidParameterValue.InvalidKeyId');
    expect(await codeOf(client().DescribeKeys({ KeyIds: [keyId, '00000000-0000-4000-8000-000000000000'] }))).toBe('ResourceUnavailable.CmkNotFound');
  });
  it('InvalidParameterValue.DuplicatedKeyId', async () => {
    expect(await codeOf(client().DescribeKeys({ KeyIds: [keyId, keyId] }))).toBe('InvalidParameterValue.DuplicatedKeyId');
  });
  it('InvalidParameter for no ids, more than 100, or a mistyped KeyId', async () => {
    expect(await codeOf(client().DescribeKeys({ KeyIds: [] }))).toMatch(/^(InvalidParameter|MissingParameter)$/);
    const many = Array.from({ length: 101 }, (_, i) => `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`);
    expect(await codeOf(client().DescribeKeys({ KeyIds: many }))).toBe('InvalidParameter');
    expect((await tc3('DescribeKey', { KeyId: 5 })).code).toBe('InvalidParameter');
  });
});

describe('ListKeys', () => {
  it('InvalidParameter for Limit outside 1..200 or a bad Role', async () => {
    expect(await codeOf(client().ListKeys({ Limit: 201 }))).toBe('InvalidParameter');
    expect(await codeOf(client().ListKeys({ Limit: 0 }))).toBe('InvalidParameter');
    expect(await codeOf(client().ListKeys({ Role: 2 }))).toBe('InvalidParameter');
    expect((await tc3('ListKeys', { Offset: -1 })).code).toBe('InvalidParameter');
  });
});

describe('Encrypt', () => {
  it('InvalidParameterValue.InvalidPlaintext for non-base64 or more than 4 KB', async () => {
    expect(await codeOf(client().Encrypt({ KeyId: keyId, Plaintext: 'not base64!' }))).toBe('InvalidParameterValue.InvalidPlaintext');
    expect(await codeOf(client().Encrypt({ KeyId: keyId, Plaintext: Buffer.alloc(4097).toString('base64') }))).toBe('InvalidParameterValue.InvalidPlaintext');
  });
  it('InvalidParameterValue.InvalidKeyId and ResourceUnavailable.CmkNotFound', async () => {
    expect(await codeOf(client().Encrypt({ KeyId: 'x', Plaintext: b64('a') }))).toBe('InvalidParameterValue.InvalidKeyId');
    expect(await codeOf(client().Encrypt({ KeyId: '00000000-0000-4000-8000-000000000000', Plaintext: b64('a') }))).toBe('ResourceUnavailable.CmkNotFound');
  });
  it('InvalidParameter for a bad EncryptionContext', async () => {
    expect(await codeOf(client().Encrypt({ KeyId: keyId, Plaintext: b64('a'), EncryptionContext: 'not json' }))).toBe('InvalidParameter');
    expect(await codeOf(client().Encrypt({ KeyId: keyId, Plaintext: b64('a'), EncryptionContext: JSON.stringify({ k: 'v'.repeat(1020) }) }))).toBe('InvalidParameter');
  });
  it('ResourceUnavailable.CmkDisabled, and CmkStateNotSupport for a key awaiting import', async () => {
    const { KeyId } = await client().CreateKey({ Alias: 'to-disable' });
    const enc = await client().Encrypt({ KeyId: KeyId!, Plaintext: b64('a') });
    await client().DisableKey({ KeyId: KeyId! });
    expect(await codeOf(client().Encrypt({ KeyId: KeyId!, Plaintext: b64('a') }))).toBe('ResourceUnavailable.CmkDisabled');
    expect(await codeOf(client().Decrypt({ CiphertextBlob: enc.CiphertextBlob! }))).toBe('ResourceUnavailable.CmkDisabled');
    const ext = await client().CreateKey({ Alias: 'awaiting', Type: 2 });
    expect(await codeOf(client().Encrypt({ KeyId: ext.KeyId!, Plaintext: b64('a') }))).toBe('ResourceUnavailable.CmkStateNotSupport');
  });
});

describe('Decrypt', () => {
  it('InvalidParameterValue.InvalidCiphertext for a wrong context, a tampered or foreign blob', async () => {
    expect(await codeOf(client().Decrypt({ CiphertextBlob: blob }))).toBe('InvalidParameterValue.InvalidCiphertext');
    expect(await codeOf(client().Decrypt({ CiphertextBlob: blob, EncryptionContext: '{"a":"2"}' }))).toBe('InvalidParameterValue.InvalidCiphertext');
    const raw = Buffer.from(blob, 'base64');
    for (const at of [2, 20, 30, raw.length - 1]) {
      const t = Buffer.from(raw);
      t[at] ^= 1;
      expect(await codeOf(client().Decrypt({ CiphertextBlob: t.toString('base64'), EncryptionContext: '{"a":"1"}' }))).toMatch(/^(InvalidParameterValue.InvalidCiphertext|ResourceUnavailable.CmkNotFound)$/);
    }
    expect(await codeOf(client().Decrypt({ CiphertextBlob: 'bm90IGEgYmxvYg==' }))).toBe('InvalidParameterValue.InvalidCiphertext');
    expect(await codeOf(client().Decrypt({ CiphertextBlob: '***' }))).toBe('InvalidParameterValue.InvalidCiphertext');
  });
  it('ResourceUnavailable.CmkNotFound for a ciphertext under a key this caller cannot see', async () => {
    const raw = Buffer.from(blob, 'base64');
    Buffer.from('00000000000040008000000000000000', 'hex').copy(raw, 3);
    expect(await codeOf(client().Decrypt({ CiphertextBlob: raw.toString('base64'), EncryptionContext: '{"a":"1"}' }))).toBe('ResourceUnavailable.CmkNotFound');
  });
  it('InvalidParameter for a bad EncryptionContext', async () => {
    expect(await codeOf(client().Decrypt({ CiphertextBlob: blob, EncryptionContext: '[]' }))).toBe('InvalidParameter');
  });
});

describe('GenerateRandom', () => {
  it('InvalidParameter outside 1..1024', async () => {
    for (const n of [0, 1025]) expect(await codeOf(client().GenerateRandom({ NumberOfBytes: n }))).toBe('InvalidParameter');
    expect((await tc3('GenerateRandom', {})).code).toBe('MissingParameter');
  });
});

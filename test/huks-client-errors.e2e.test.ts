import * as crypto from 'node:crypto';
import { Client } from 'pg';
import huks, { HuksParam, HuksTag } from '../src/client/huks';
import { aesKey, gcm, segments, stream, u8, useAccount } from './support/huks-session';
import { Credential, KmsService } from './support/kms-service';

/**
 * Every error code of docs/huks-protocol.md that a client can provoke, as the client reports it
 * (a BusinessError with the seed's numeric code and the service's reason), on a real service.
 * 12000015 on PostgreSQL only; 12000012 InsecureTransport in huks-client-tls.e2e.test.ts. Not
 * here: 801 (the client only calls the protocol's operations); 12000006 in
 * huks-client-pairs.e2e.test.ts (a ciphertext the key pair does not decrypt).
 */
let kms: KmsService;
let cred: Credential;

const QUOTA = 6;
beforeAll(async () => {
  kms = await KmsService.start({ env: { KMS_CMK_QUOTA: String(QUOTA), KMS_RATE_LIMITS: 'abortSession=3', KMS_HUKS_GCM_DECRYPT_MAX_BYTES: '65536' } });
  cred = await kms.createAccount('huks-errors');
});
afterAll(() => kms.stop());
beforeEach(() => useAccount(kms, cred));

const { HuksKeyPurpose: PURPOSE, HuksKeyAlg: ALG, HuksCipherMode: MODE } = huks;
const ENC = PURPOSE.HUKS_KEY_PURPOSE_ENCRYPT;
const DEC = PURPOSE.HUKS_KEY_PURPOSE_DECRYPT;
const nonce = () => u8(crypto.randomBytes(12));

describe('credentials and signatures', () => {
  it('201 for a signature made with the wrong SecretKey', async () => {
    huks.configure({ endpoint: `http://${kms.endpoint}`, secretId: cred.SecretId, secretKey: `${cred.SecretKey}x`, region: 'ap-guangzhou' });
    await expect(huks.hasKeyItem('any', {})).rejects.toMatchObject({ code: 201, reason: 'SignatureMismatch' });
  });

  it('12000013 for an unknown SecretId', async () => {
    huks.configure({ endpoint: `http://${kms.endpoint}`, secretId: 'AKIDunknownunknownunknownunknown1234', secretKey: cred.SecretKey, region: 'ap-guangzhou' });
    await expect(huks.hasKeyItem('any', {})).rejects.toMatchObject({ code: 12000013, reason: 'NoCredential' });
  });

  it('12000009 when the client clock is 20 minutes behind', async () => {
    jest.useFakeTimers({ now: Date.now() - 20 * 60_000, doNotFake: ['nextTick', 'setImmediate', 'clearImmediate', 'setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'queueMicrotask', 'hrtime', 'performance'] });
    try {
      await expect(huks.hasKeyItem('any', {})).rejects.toMatchObject({ code: 12000009, reason: 'SignatureExpired' });
    } finally {
      jest.useRealTimers();
    }
    await expect(huks.hasKeyItem('any', {})).resolves.toBe(false);
  });

  it('201 for a sub-user whose policy allows nothing', async () => {
    const sub = await kms.cli<{ SecretId: string; SecretKey: string }>('user', 'create', '--account', cred.Uin, '--name', 'huks-nobody');
    huks.configure({ endpoint: `http://${kms.endpoint}`, secretId: sub.SecretId, secretKey: sub.SecretKey, region: 'ap-guangzhou' });
    await expect(huks.generateKeyItem('sub-key', { properties: aesKey(128) })).rejects.toMatchObject({ code: 201, reason: 'Denied' });
    await expect(huks.hasKeyItem('sub-key', {})).rejects.toMatchObject({ code: 201, reason: 'Denied' });
  });
});

describe('arguments the service refuses', () => {
  // The service's other 401s (malformed JSON, a field or an alias of the wrong form) are what the client refuses itself.
  it('401 TooLarge for a body over 2 MiB', async () => {
    const big = u8(Buffer.alloc(1024 * 1024, 1));
    const props: HuksParam[] = [...aesKey(128), { tag: HuksTag.HUKS_TAG_ASSOCIATED_DATA, value: big }, { tag: HuksTag.HUKS_TAG_NONCE, value: big }];
    await expect(huks.initSession('whatever', { properties: props, inData: big })).rejects.toMatchObject({ code: 401, reason: 'TooLarge' });
  });

  it('12000001 for an algorithm or mode not supported', async () => {
    const rsa: HuksParam[] = [
      { tag: HuksTag.HUKS_TAG_ALGORITHM, value: ALG.HUKS_ALG_RSA },
      { tag: HuksTag.HUKS_TAG_KEY_SIZE, value: 2048 },
      { tag: HuksTag.HUKS_TAG_PURPOSE, value: ENC },
    ];
    await expect(huks.generateKeyItem('rsa', { properties: rsa })).rejects.toMatchObject({ code: 12000001, reason: 'Unsupported' });
    await huks.generateKeyItem('modes', { properties: aesKey(128) });
    const ccm = [...aesKey(128, ENC), { tag: HuksTag.HUKS_TAG_BLOCK_MODE, value: MODE.HUKS_MODE_CCM }];
    await expect(huks.initSession('modes', { properties: ccm })).rejects.toMatchObject({ code: 12000001, reason: 'Unsupported' });
    // SoftHSM has no padded ECB (docs/huks-protocol.md, Changes).
    const ecbPkcs7 = [...aesKey(128, ENC), { tag: HuksTag.HUKS_TAG_BLOCK_MODE, value: MODE.HUKS_MODE_ECB }, { tag: HuksTag.HUKS_TAG_PADDING, value: huks.HuksKeyPadding.HUKS_PADDING_PKCS7 }];
    await expect(huks.initSession('modes', { properties: ecbPkcs7 })).rejects.toMatchObject({ code: 12000001, reason: 'Unsupported' });
  });

  it('12000002 for a required property missing', async () => {
    await expect(huks.generateKeyItem('no-purpose', { properties: aesKey(128).slice(0, 2) })).rejects.toMatchObject({ code: 12000002, reason: 'MissingParameter' });
    const noNonce = gcm(ENC, { bits: 128, nonce: nonce() }).filter((p) => p.tag !== HuksTag.HUKS_TAG_NONCE);
    await expect(huks.initSession('modes', { properties: noNonce })).rejects.toMatchObject({ code: 12000002, reason: 'MissingParameter' });
  });

  it('12000003 for an invalid property value, such as the seed example\'s 32 bytes for a 128-bit key', async () => {
    await expect(huks.importKeyItem('wrong-size', { properties: aesKey(128), inData: new Uint8Array(32) })).rejects.toMatchObject({ code: 12000003, reason: 'InvalidParameter' });
    await expect(huks.initSession('modes', { properties: gcm(ENC, { bits: 128, nonce: new Uint8Array(8) }) })).rejects.toMatchObject({ code: 12000003 });
    await expect(huks.initSession('modes', { properties: gcm(ENC, { bits: 256, nonce: nonce() }) })).rejects.toMatchObject({ code: 12000003 });
    // A GCM decryption finished without its AE_TAG.
    const dec = gcm(DEC, { bits: 128, nonce: nonce() });
    const { handle } = await huks.initSession('modes', { properties: dec });
    await expect(huks.finishSession(handle, { properties: dec, inData: new Uint8Array(32) })).rejects.toMatchObject({ code: 12000003 });
  });
});

describe('keys and sessions', () => {
  it('12000011 for an unknown alias, an unknown handle, and another account\'s', async () => {
    await expect(huks.initSession('nobody-has-this', { properties: gcm(ENC, { bits: 128, nonce: nonce() }) })).rejects.toMatchObject({ code: 12000011, reason: 'KeyNotFound' });
    const props = gcm(ENC, { bits: 128, nonce: nonce() });
    const { handle } = await huks.initSession('modes', { properties: props });
    // The same owner as a real handle, another session number.
    await expect(huks.updateSession(handle + 1, { inData: u8('x') })).rejects.toMatchObject({ code: 12000011, reason: 'SessionNotFound' });
    const other = await kms.createAccount('huks-other');
    useAccount(kms, other);
    await expect(huks.hasKeyItem('modes', {})).resolves.toBe(false);
    await expect(huks.updateSession(handle, { properties: props, inData: u8('x') })).rejects.toMatchObject({ code: 12000011, reason: 'SessionNotFound' });
    useAccount(kms, cred);
    await expect(huks.finishSession(handle, { properties: props, inData: u8('still mine') })).resolves.toMatchObject({ outData: expect.any(Uint8Array) });
  });

  it('12000012 for an alias taken, and for a key pending deletion', async () => {
    await expect(huks.generateKeyItem('modes', { properties: aesKey(128) })).rejects.toMatchObject({ code: 12000012, reason: 'AliasExists' });
    await expect(huks.importKeyItem('modes', { properties: aesKey(128), inData: new Uint8Array(16) })).rejects.toMatchObject({ code: 12000012, reason: 'AliasExists' });
    await huks.generateKeyItem('to-delete', { properties: aesKey(128) });
    await huks.deleteKeyItem('to-delete', {});
    await expect(huks.initSession('to-delete', { properties: gcm(ENC, { bits: 128, nonce: nonce() }) })).rejects.toMatchObject({ code: 12000012, reason: 'KeyState' });
  });

  it('12000014 for a GCM decryption over KMS_HUKS_GCM_DECRYPT_MAX_BYTES, which ends the session', async () => {
    const n = nonce();
    const sealed = await stream('modes', gcm(ENC, { bits: 128, nonce: n }), segments(crypto.randomBytes(100_000), 65_536));
    const dec = gcm(DEC, { bits: 128, nonce: n, aeTag: u8(sealed.subarray(-16)) });
    const { handle } = await huks.initSession('modes', { properties: dec });
    await huks.updateSession(handle, { properties: dec, inData: u8(sealed.subarray(0, 60_000)) });
    await expect(huks.updateSession(handle, { properties: dec, inData: u8(sealed.subarray(60_000, 100_000)) })).rejects.toMatchObject({ code: 12000014, reason: 'BufferLimit' });
    await expect(huks.abortSession(handle, {})).rejects.toMatchObject({ code: 12000011 });
  });

  it('12000014 for the key quota (KMS_CMK_QUOTA)', async () => {
    const full = await kms.createAccount('huks-quota');
    useAccount(kms, full);
    for (let i = 0; i < QUOTA; i++) await huks.generateKeyItem(`q${i}`, { properties: aesKey(128) });
    await expect(huks.generateKeyItem('one-too-many', { properties: aesKey(128) })).rejects.toMatchObject({ code: 12000014, reason: 'QuotaExceeded' });
    await expect(huks.importKeyItem('one-too-many', { properties: aesKey(128), inData: new Uint8Array(16) })).rejects.toMatchObject({ code: 12000014, reason: 'QuotaExceeded' });
  });

  it('12000014 Throttled beyond the rate limit (abortSession=3 per second here)', async () => {
    const { handle } = await huks.initSession('modes', { properties: gcm(ENC, { bits: 128, nonce: nonce() }) });
    await huks.abortSession(handle, {});
    const answers = await Promise.allSettled(Array.from({ length: 12 }, () => huks.abortSession(handle, {})));
    const codes = answers.map((a) => (a.status === 'rejected' ? `${a.reason.code} ${a.reason.reason}` : 'ok'));
    expect(codes).toContain('12000014 Throttled');
    expect(codes.filter((c) => c !== '12000014 Throttled').every((c) => c === '12000011 SessionNotFound')).toBe(true);
  });
});

describe('the service unavailable', () => {
  // As in huawei-unavailable.e2e.test.ts: a locked audit store stops every call for a while
  // (PostgreSQL only; on SQLite a locked database stalls the process instead).
  const onPostgres = process.env.KMS_TEST_DATABASE_URL ? it : it.skip;

  onPostgres('12000015 while the audit store is locked, then serves again', async () => {
    const lock = new Client({ connectionString: kms.env.KMS_DATABASE_URL });
    await lock.connect();
    await lock.query('BEGIN');
    await lock.query('LOCK TABLE audit_records IN ACCESS EXCLUSIVE MODE');
    const codes: string[] = [];
    try {
      const until = Date.now() + 9000;
      while (Date.now() < until && !codes.includes('12000015 Unavailable')) {
        codes.push(await huks.hasKeyItem('modes', {}).then(String, (e) => `${e.code} ${e.reason}`));
        await new Promise((r) => setTimeout(r, 200));
      }
    } finally {
      await lock.query('COMMIT');
      await lock.end();
    }
    expect(codes).toContain('12000015 Unavailable');
    expect(codes.every((c) => c === 'true' || c === '12000015 Unavailable')).toBe(true);
    let answer = '';
    for (const until = Date.now() + 10_000; Date.now() < until && (answer = await huks.hasKeyItem('modes', {}).then(String, (e) => String(e.code))) !== 'true'; ) await new Promise((r) => setTimeout(r, 200));
    expect(answer).toBe('true');
  });
});

import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { HuksRaw, TAG, aesProps, gcmProps, props } from './support/huks-raw';
import { Credential, KmsService } from './support/kms-service';

/**
 * Each error answer of the HUKS face (docs/huks-protocol.md, Errors), hit through signed raw
 * HTTP: the seed's numeric code, the HTTP status and the reason word.
 */
let kms: KmsService;
let cred: Credential;
let huks: HuksRaw;
let dir: string;

const ENCRYPT = 1;
const DECRYPT = 2;
const external = Object.values(os.networkInterfaces())
  .flat()
  .find((i) => i && i.family === 'IPv4' && !i.internal)?.address;

beforeAll(async () => {
  // Listening on every address (plain HTTP allowed) so that a non-loopback client can be tried.
  kms = await KmsService.start({ env: { KMS_HOST: '0.0.0.0', KMS_ALLOW_PLAINTEXT_HTTP: '1', KMS_HUKS_GCM_DECRYPT_MAX_BYTES: '100000', KMS_RATE_LIMITS: 'abortSession=2', KMS_CMK_QUOTA: '8' } });
  cred = await kms.createAccount('huks-errors');
  huks = new HuksRaw(kms.endpoint, cred);
  await huks.generate('e-aes', aesProps(256, ENCRYPT | DECRYPT));
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kms-huks-'));
});
afterAll(() => kms.stop());

const expectError = (r: { status: number; body: Record<string, any> }, code: number, status: number, reason: string) =>
  expect({ status: r.status, code: r.body.error?.code, reason: r.body.error?.reason }).toEqual({ status, code, reason });
const nonce = () => crypto.randomUUID();

it('answers 801 for an unknown operation or method', async () => {
  expectError(await huks.call('encryptEverything', {}), 801, 404, 'UnknownOperation');
  expectError(await huks.call('hasKeyItem', {}, { method: 'PUT' }), 801, 404, 'UnknownOperation');
});

it('answers 12000013 without a signature or with an unknown SecretId', async () => {
  expectError(await huks.call('hasKeyItem', { keyAlias: 'x', nonce: nonce() }, { sign: false }), 12000013, 401, 'NoCredential');
  expectError(await huks.call('hasKeyItem', { keyAlias: 'x', nonce: nonce() }, { mutate: (h) => (h.authorization = 'Basic abc') }), 12000013, 401, 'NoCredential');
  const stranger = new HuksRaw(kms.endpoint, { ...cred, SecretId: `AKID${'x'.repeat(32)}` });
  expectError(await stranger.call('hasKeyItem', { keyAlias: 'x', nonce: nonce() }), 12000013, 401, 'NoCredential');
});

it('answers 201 for a signature that does not match or is replayed, and 12000009 for an old date', async () => {
  expectError(await huks.call('hasKeyItem', { keyAlias: 'x', nonce: nonce() }, { mutate: (h) => (h['x-kms-region'] = 'ap-shanghai') }), 201, 403, 'SignatureMismatch');
  const wrongKey = new HuksRaw(kms.endpoint, { ...cred, SecretKey: 'not-the-secret-key' });
  expectError(await wrongKey.call('hasKeyItem', { keyAlias: 'x', nonce: nonce() }), 201, 403, 'SignatureMismatch');
  expectError(await huks.call('hasKeyItem', { keyAlias: 'x', nonce: nonce() }, { date: new Date(Date.now() - 20 * 60_000) }), 12000009, 403, 'SignatureExpired');
  // The same signed request again, after the 2 s in which an identical retry is accepted.
  const date = new Date();
  const body = { keyAlias: 'x', nonce: nonce() };
  expect((await huks.call('hasKeyItem', body, { date })).status).toBe(200);
  await new Promise((r) => setTimeout(r, 2500));
  expectError(await huks.call('hasKeyItem', body, { date }), 201, 403, 'SignatureReplayed');
});

it('answers 201 for a session step sent again or signed before the one before, and the session goes on', async () => {
  const nonceBytes = crypto.randomBytes(12);
  const enc = gcmProps(ENCRYPT, nonceBytes, Buffer.alloc(0));
  const { handle } = (await huks.call('initSession', { keyAlias: 'e-aes', options: { properties: enc }, nonce: nonce() })).body;
  const step = { handle, options: { inData: Buffer.from('sixteen bytes!!!').toString('base64') }, nonce: nonce() };
  const date = new Date();
  const first = await huks.call('updateSession', step, { date });
  expect(first.status).toBe(200);
  // At once and from the same address: the session keeps its steps' signatures itself.
  expectError(await huks.call('updateSession', step, { date }), 201, 403, 'SignatureReplayed');
  // Signed afresh, but earlier than the step before: steps come in order, so this is refused too (the session keeps only its latest second's signatures).
  const earlier = await huks.call('updateSession', { ...step, nonce: nonce() }, { date: new Date(date.getTime() - 5000) });
  expectError(earlier, 201, 403, 'SignatureReplayed');
  expect(earlier.body.error.message).toContain('signed earlier than a step before it');
  const last = await huks.call('finishSession', { handle, options: {}, nonce: nonce() });
  expect(last.status).toBe(200);
  expect(Buffer.concat([first.body.outData, last.body.outData].map((b) => Buffer.from(b, 'base64'))).length).toBe(16 + 16);
});

it('answers 401 for malformed bodies and arguments', async () => {
  expectError(await huks.call('hasKeyItem', '{not json'), 401, 400, 'InvalidArgument');
  expectError(await huks.call('hasKeyItem', '[1]'), 401, 400, 'InvalidArgument');
  expectError(await huks.call('hasKeyItem', { keyAlias: 'x'.repeat(129), nonce: nonce() }), 401, 400, 'InvalidArgument');
  expectError(await huks.call('hasKeyItem', { keyAlias: 'a\u0000b', nonce: nonce() }), 401, 400, 'InvalidArgument');
  expectError(await huks.call('hasKeyItem', { keyAlias: 'x', nonce: nonce() }, { region: 'mars-1' }), 401, 400, 'InvalidArgument');
  expectError(await huks.call('initSession', { keyAlias: 'e-aes', options: { properties: [{ tag: TAG.ALGORITHM, value: 'AES' }] }, nonce: nonce() }), 401, 400, 'InvalidArgument');
  expectError(await huks.call('initSession', { keyAlias: 'e-aes', options: { properties: [{ tag: TAG.NONCE, value: 'not base64!' }] }, nonce: nonce() }), 401, 400, 'InvalidArgument');
  expectError(await huks.call('updateSession', { handle: 'abc', options: {}, nonce: nonce() }), 401, 400, 'InvalidArgument');
  expectError(await huks.call('updateSession', { handle: 1, options: { inData: 'A'.repeat(1_500_000) }, nonce: nonce() }), 401, 413, 'TooLarge');
  expectError(await huks.call('updateSession', { handle: 1, options: { inData: 'A'.repeat(2_200_000) }, nonce: nonce() }), 401, 413, 'TooLarge');
});

it('answers 12000001, 12000002 and 12000003 for unsupported, missing and invalid properties', async () => {
  expect(await huks.code('generateKeyItem', { keyAlias: 'rsa', options: { properties: props([TAG.ALGORITHM, 1], [TAG.KEY_SIZE, 4096], [TAG.PURPOSE, 4]) } })).toBe(12000001);
  expect(await huks.code('initSession', { keyAlias: 'e-aes', options: { properties: [...aesProps(256, ENCRYPT), ...props([TAG.BLOCK_MODE, 4], [TAG.IV, crypto.randomBytes(16)])] } })).toBe(12000001);
  expect(await huks.code('generateKeyItem', { keyAlias: 'no-alg', options: { properties: props([TAG.KEY_SIZE, 256], [TAG.PURPOSE, 3]) } })).toBe(12000002);
  expect(await huks.code('initSession', { keyAlias: 'e-aes', options: { properties: [...aesProps(256, ENCRYPT), ...props([TAG.BLOCK_MODE, 32])] } })).toBe(12000002);
  expect(await huks.code('generateKeyItem', { keyAlias: 'bad-size', options: { properties: aesProps(100, 3) } })).toBe(12000003);
  expect(await huks.code('initSession', { keyAlias: 'e-aes', options: { properties: gcmProps(ENCRYPT, crypto.randomBytes(8), Buffer.alloc(0)) } })).toBe(12000003);
  // The key is 256 bits; init names 128.
  expect(await huks.code('initSession', { keyAlias: 'e-aes', options: { properties: gcmProps(ENCRYPT, crypto.randomBytes(12), Buffer.alloc(0), 128) } })).toBe(12000003);
  // A nonce repeated on update must be init's.
  const h = await huks.init('e-aes', gcmProps(ENCRYPT, crypto.randomBytes(12), Buffer.alloc(0)));
  expect(await huks.code('updateSession', { handle: h, options: { properties: props([TAG.NONCE, crypto.randomBytes(12)]), inData: 'AAAA' } })).toBe(12000003);
  // CBC without padding takes whole blocks only.
  const cbc = await huks.init('e-aes', [...aesProps(256, ENCRYPT), ...props([TAG.BLOCK_MODE, 2], [TAG.PADDING, 0], [TAG.IV, crypto.randomBytes(16)])]);
  expect(await huks.code('finishSession', { handle: cbc, options: { inData: Buffer.alloc(15).toString('base64') } })).toBe(12000003);
  // A GCM decryption without its tag.
  const dec = await huks.init('e-aes', gcmProps(DECRYPT, crypto.randomBytes(12), Buffer.alloc(0)));
  expect(await huks.code('finishSession', { handle: dec, options: { inData: 'AAAA' } })).toBe(12000003);
  // An AES key used for a MAC session.
  expect(await huks.code('initSession', { keyAlias: 'e-aes', options: { properties: props([TAG.ALGORITHM, 50], [TAG.PURPOSE, 128]) } })).toBe(12000003);
  // Plain material of the wrong length.
  expect(await huks.code('importKeyItem', { keyAlias: 'short', options: { properties: aesProps(128, 3), inData: crypto.randomBytes(15).toString('base64') } })).toBe(12000003);
});

it('answers 12000001 for an algorithm or an OAEP digest it does not do, and 12000003 for a purpose a key pair cannot have', async () => {
  // A session's properties are judged before its key is looked up, so the AES key's alias serves.
  const RSA = 1;
  const ECC = 2;
  const OAEP = 1;
  const SHA384 = 13;
  const generateAlg = await huks.call('generateKeyItem', { keyAlias: 'alg-99', options: { properties: props([TAG.ALGORITHM, 99], [TAG.KEY_SIZE, 256], [TAG.PURPOSE, 3]) }, nonce: nonce() });
  expectError(generateAlg, 12000001, 400, 'Unsupported');
  expect(generateAlg.body.error.message).toBe('algorithm 99 is not supported here (RSA 1, ECC 2, AES 20, HMAC 50)');
  const oaep = await huks.call('initSession', { keyAlias: 'e-aes', options: { properties: props([TAG.ALGORITHM, RSA], [TAG.PURPOSE, DECRYPT], [TAG.PADDING, OAEP], [TAG.DIGEST, SHA384]) }, nonce: nonce() });
  expectError(oaep, 12000001, 400, 'Unsupported');
  expect(oaep.body.error.message).toBe('OAEP here uses HUKS_DIGEST_SHA1 (or HUKS_DIGEST_SHA256 where the token can)');
  const eccDecrypt = await huks.call('initSession', { keyAlias: 'e-aes', options: { properties: props([TAG.ALGORITHM, ECC], [TAG.PURPOSE, DECRYPT]) }, nonce: nonce() });
  expectError(eccDecrypt, 12000003, 400, 'InvalidParameter');
  expect(eccDecrypt.body.error.message).toBe('an ECC session\'s purpose is exactly one of SIGN and VERIFY');
  expect(await huks.code('initSession', { keyAlias: 'e-aes', options: { properties: props([TAG.ALGORITHM, RSA], [TAG.PURPOSE, ENCRYPT | DECRYPT]) } })).toBe(12000003);
  expect((await huks.ok('hasKeyItem', { keyAlias: 'alg-99', options: {} })).exists).toBe(false);
});

it('answers 12000011 for an unknown alias and for a handle of another account or instance', async () => {
  expect(await huks.code('initSession', { keyAlias: 'nobody', options: { properties: gcmProps(ENCRYPT, crypto.randomBytes(12), Buffer.alloc(0)) } })).toBe(12000011);
  const h = await huks.init('e-aes', gcmProps(ENCRYPT, crypto.randomBytes(12), Buffer.alloc(0)));
  const other = new HuksRaw(kms.endpoint, await kms.createAccount('huks-other'));
  expect(await other.code('updateSession', { handle: h, options: { inData: 'AAAA' } })).toBe(12000011);
  // The same handle with another instance tag (its top 8 bits).
  const INSTANCE = 2 ** 45;
  const elsewhere = ((Math.floor(h / INSTANCE) + 1) % 256) * INSTANCE + (h % INSTANCE);
  const r = await huks.call('updateSession', { handle: elsewhere, options: { inData: 'AAAA' }, nonce: nonce() });
  expectError(r, 12000011, 404, 'WrongInstance');
  await huks.abort(h);
});

it('answers 12000012 for a taken alias, a disabled key, and plain material over an insecure transport', async () => {
  expect(await huks.code('generateKeyItem', { keyAlias: 'e-aes', options: { properties: aesProps(256, 3) } })).toBe(12000012);
  await huks.generate('e-gone', aesProps(256, 3));
  await huks.ok('deleteKeyItem', { keyAlias: 'e-gone', options: {} });
  expect(await huks.code('deleteKeyItem', { keyAlias: 'e-gone', options: {} })).toBe(12000012);
  if (!external) throw new Error('this test needs a non-loopback IPv4 address');
  const remote = new HuksRaw(`http://${external}:${kms.port}`, cred);
  const r = await remote.call('importKeyItem', { keyAlias: 'plain', options: { properties: aesProps(128, 3), inData: crypto.randomBytes(16).toString('base64') }, nonce: nonce() });
  expectError(r, 12000012, 409, 'InsecureTransport');
  expect((await huks.ok('hasKeyItem', { keyAlias: 'plain', options: {} })).exists).toBe(false);
});

it('answers 12000014 past the GCM decryption bound, the rate limit and the key quota', async () => {
  const dec = await huks.init('e-aes', gcmProps(DECRYPT, crypto.randomBytes(12), Buffer.alloc(0)));
  await huks.update(dec, crypto.randomBytes(60_000));
  const r = await huks.call('updateSession', { handle: dec, options: { inData: crypto.randomBytes(60_000).toString('base64') }, nonce: nonce() });
  expectError(r, 12000014, 413, 'BufferLimit');
  expect(await huks.code('updateSession', { handle: dec, options: { inData: 'AAAA' } })).toBe(12000011);

  const answers = await Promise.all([1, 2, 3, 4, 5].map(() => huks.call('abortSession', { handle: 1, options: {}, nonce: nonce() })));
  const throttled = answers.filter((a) => a.body.error.code !== 12000011);
  expect(throttled.length).toBeGreaterThan(0);
  for (const t of throttled) expectError(t, 12000014, 429, 'Throttled');

  const quota = await kms.createAccount('huks-quota');
  const q = new HuksRaw(kms.endpoint, quota);
  for (let i = 0; i < 8; i++) await q.generate(`q${i}`, aesProps(128, 3));
  const over = await q.call('generateKeyItem', { keyAlias: 'q8', options: { properties: aesProps(128, 3) }, nonce: nonce() });
  expectError(over, 12000014, 429, 'QuotaExceeded');
});

it('answers 201 when a sub-user\'s policy denies the operation', async () => {
  const file = path.join(dir, 'encrypt-only.json');
  fs.writeFileSync(file, JSON.stringify({ version: '2.0', statement: [{ effect: 'allow', action: ['name/kms:Encrypt'], resource: '*' }] }));
  const sub = await kms.cli<{ SecretId: string; SecretKey: string; SubUin: string }>('user', 'create', '--account', cred.Uin, '--name', 'huks-sub', '--policy', file);
  const u = new HuksRaw(kms.endpoint, { Uin: cred.Uin, SecretId: sub.SecretId, SecretKey: sub.SecretKey });
  const h = await u.init('e-aes', gcmProps(ENCRYPT, crypto.randomBytes(12), Buffer.alloc(0)));
  expect((await u.finish(h, Buffer.from('x'))).length).toBe(17);
  expectError(await u.call('initSession', { keyAlias: 'e-aes', options: { properties: gcmProps(DECRYPT, crypto.randomBytes(12), Buffer.alloc(0)) }, nonce: nonce() }), 201, 403, 'Denied');
  expectError(await u.call('generateKeyItem', { keyAlias: 'sub-key', options: { properties: aesProps(128, 3) }, nonce: nonce() }), 201, 403, 'Denied');
});

import * as crypto from 'node:crypto';
import { HuksRaw, TAG, aesProps, gcmProps, props } from './support/huks-raw';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { waitForRecords } from './support/audit-db';
import { newMaterial, wrapMaterial } from './support/byok';
import { Credential, KmsService } from './support/kms-service';
import { b64, codeOf, kmsClient } from './support/tencent-client';

/**
 * The HUKS face's sessions on a real token, driven by signed raw HTTP (test/support/huks-raw.ts)
 * until the client library exists: each mode against Node's crypto with known material, and
 * 10 MB streamed in 64 KiB segments.
 */
let kms: KmsService;
let cred: Credential;
let huks: HuksRaw;

beforeAll(async () => {
  kms = await KmsService.start();
  cred = await kms.createAccount('huks-sessions');
  huks = new HuksRaw(kms.endpoint, cred);
});
afterAll(async () => {
  if (process.env.HUKS_DEBUG) console.log(kms.logs);
  await kms.stop();
});

const ENCRYPT = 1;
const DECRYPT = 2;
const SEGMENT = 64 * 1024;

async function stream(handle: number, data: Buffer, last: (rest: Buffer) => Promise<Buffer>, more: Parameters<HuksRaw['update']>[2] = []): Promise<Buffer> {
  const out: Buffer[] = [];
  let at = 0;
  for (; at + SEGMENT < data.length; at += SEGMENT) out.push(await huks.update(handle, data.subarray(at, at + SEGMENT), more));
  out.push(await last(data.subarray(at)));
  return Buffer.concat(out);
}

it('streams 10 MB through AES-256-GCM in 64 KiB segments, as Node computes it, and decrypts it back', async () => {
  const key = crypto.randomBytes(32);
  await huks.import('gcm-10mb', aesProps(256, ENCRYPT | DECRYPT), Buffer.from(key));
  const nonce = crypto.randomBytes(12);
  const aad = Buffer.from('associated');
  const data = crypto.randomBytes(10 * 1024 * 1024);
  const enc = await huks.init('gcm-10mb', gcmProps(ENCRYPT, nonce, aad));
  const sealed = await stream(enc, data, (rest) => huks.finish(enc, rest));
  const c = crypto.createCipheriv('aes-256-gcm', key, nonce);
  c.setAAD(aad);
  const expected = Buffer.concat([c.update(data), c.final(), c.getAuthTag()]);
  expect(sealed.equals(expected)).toBe(true);

  const ciphertext = sealed.subarray(0, sealed.length - 16);
  const tag = sealed.subarray(sealed.length - 16);
  const dec = await huks.init('gcm-10mb', gcmProps(DECRYPT, nonce, aad));
  const opened = await stream(dec, ciphertext, (rest) => huks.finish(dec, rest, props([TAG.AE_TAG, tag])), props([TAG.NONCE, nonce], [TAG.ASSOCIATED_DATA, aad]));
  expect(opened.equals(data)).toBe(true);
}, 120_000);

it('answers 12000008 for a GCM tag that does not verify, and ends the session', async () => {
  await huks.generate('gcm-gen', aesProps(128, ENCRYPT | DECRYPT));
  const nonce = crypto.randomBytes(12);
  const enc = await huks.init('gcm-gen', gcmProps(ENCRYPT, nonce, Buffer.alloc(0), 128));
  const sealed = await huks.finish(enc, Buffer.from('hello huks'));
  const dec = await huks.init('gcm-gen', gcmProps(DECRYPT, nonce, Buffer.alloc(0), 128));
  const badTag = Buffer.from(sealed.subarray(sealed.length - 16));
  badTag[0] ^= 1;
  expect(await huks.code('finishSession', { handle: dec, options: { properties: props([TAG.AE_TAG, badTag]), inData: sealed.subarray(0, sealed.length - 16).toString('base64') } })).toBe(12000008);
  expect(await huks.code('finishSession', { handle: dec, options: {} })).toBe(12000011);
});

it.each([
  ['aes-128-cbc', 128, 2, 5, true],
  ['aes-192-cbc', 192, 2, 0, true],
  ['aes-256-ctr', 256, 3, 0, true],
  ['aes-128-ecb', 128, 1, 0, false],
] as const)('%s in segments matches Node and decrypts back', async (cipher, size, mode, padding, iv) => {
  const key = crypto.randomBytes(size / 8);
  const alias = `k-${cipher}`;
  await huks.import(alias, aesProps(size, ENCRYPT | DECRYPT), Buffer.from(key));
  const ivBytes = iv ? crypto.randomBytes(16) : undefined;
  const data = crypto.randomBytes(padding === 5 ? 200_000 + 7 : 200_000 - (200_000 % 16));
  const sessionProps = (purpose: number) => [...aesProps(size, purpose), ...props([TAG.BLOCK_MODE, mode], [TAG.PADDING, padding], ...(ivBytes ? [[TAG.IV, ivBytes] as [number, Buffer]] : []))];
  const enc = await huks.init(alias, sessionProps(ENCRYPT));
  const sealed = await stream(enc, data, (rest) => huks.finish(enc, rest));
  const c = crypto.createCipheriv(cipher, key, ivBytes ?? null);
  c.setAutoPadding(padding === 5);
  expect(sealed.equals(Buffer.concat([c.update(data), c.final()]))).toBe(true);
  const dec = await huks.init(alias, sessionProps(DECRYPT));
  expect((await stream(dec, sealed, (rest) => huks.finish(dec, rest))).equals(data)).toBe(true);
});

it('computes HMAC-SHA256 in parts, as Node does', async () => {
  const key = crypto.randomBytes(32);
  await huks.import('mac', props([TAG.ALGORITHM, 50], [TAG.KEY_SIZE, 256], [TAG.PURPOSE, 128], [TAG.DIGEST, 12]), Buffer.from(key));
  const data = crypto.randomBytes(300_000);
  const h = await huks.init('mac', props([TAG.ALGORITHM, 50], [TAG.PURPOSE, 128], [TAG.DIGEST, 12]));
  const mac = await stream(h, data, (rest) => huks.finish(h, rest));
  expect(mac.equals(crypto.createHmac('sha256', key).update(data).digest())).toBe(true);
});

it('answers hasKeyItem, deletes a key item, and a deleted alias is gone', async () => {
  await huks.generate('to-delete', aesProps(256, ENCRYPT | DECRYPT));
  expect((await huks.ok('hasKeyItem', { keyAlias: 'to-delete', options: {} })).exists).toBe(true);
  await huks.ok('deleteKeyItem', { keyAlias: 'to-delete', options: {} });
  expect((await huks.ok('hasKeyItem', { keyAlias: 'to-delete', options: {} })).exists).toBe(false);
  expect((await huks.ok('hasKeyItem', { keyAlias: 'never-made', options: {} })).exists).toBe(false);
  expect(await huks.code('deleteKeyItem', { keyAlias: 'never-made', options: {} })).toBe(12000011);
  expect(await huks.code('initSession', { keyAlias: 'to-delete', options: { properties: gcmProps(ENCRYPT, crypto.randomBytes(12), Buffer.alloc(0)) } })).toBe(12000012);
});

it('frees a session at once on abort; its handle then answers 12000011', async () => {
  await huks.generate('abort-me', aesProps(256, ENCRYPT | DECRYPT));
  const h = await huks.init('abort-me', gcmProps(ENCRYPT, crypto.randomBytes(12), Buffer.alloc(0)));
  await huks.update(h, crypto.randomBytes(SEGMENT));
  await huks.abort(h);
  expect(await huks.code('updateSession', { handle: h, options: { inData: 'AAAA' } })).toBe(12000011);
  expect(await huks.code('abortSession', { handle: h, options: {} })).toBe(12000011);
});

it('shares keys with the other faces: a HUKS key is a CMK there, and a CMK made there is usable by alias', async () => {
  const tc = kmsClient(kms.endpoint, cred);
  await huks.generate('shared-128', aesProps(128, ENCRYPT | DECRYPT));
  const listed = await tc.ListKeyDetail({ Limit: 200 });
  const mine = listed.KeyMetadatas!.find((k) => k.Alias === 'shared-128')!;
  expect(mine).toMatchObject({ KeyState: 'Enabled', KeyUsage: 'ENCRYPT_DECRYPT' });
  const sealed = await tc.Encrypt({ KeyId: mine.KeyId!, Plaintext: b64('through the other face') });
  expect(Buffer.from((await tc.Decrypt({ CiphertextBlob: sealed.CiphertextBlob! })).Plaintext!, 'base64').toString()).toBe('through the other face');
  // A MAC key cannot encrypt there.
  await huks.generate('shared-mac', props([TAG.ALGORITHM, 50], [TAG.KEY_SIZE, 256], [TAG.PURPOSE, 128]));
  const mac = (await tc.ListKeyDetail({ Limit: 200, KeyUsage: 'ALL' })).KeyMetadatas!.find((k) => k.Alias === 'shared-mac')!;
  expect(mac.KeyUsage).toBe('GENERATE_VERIFY_MAC');
  expect(await codeOf(tc.Encrypt({ KeyId: mac.KeyId!, Plaintext: b64('x') }))).toBe('InvalidParameter');
  // A CMK made there (AES-256) through HUKS by its alias.
  await tc.CreateKey({ Alias: 'made-elsewhere' });
  const nonce = crypto.randomBytes(12);
  const h = await huks.init('made-elsewhere', gcmProps(ENCRYPT, nonce, Buffer.alloc(0)));
  const out = await huks.finish(h, Buffer.from('hi'));
  const d = await huks.init('made-elsewhere', gcmProps(DECRYPT, nonce, Buffer.alloc(0)));
  expect((await huks.finish(d, out.subarray(0, 2), props([TAG.AE_TAG, out.subarray(2)]))).toString()).toBe('hi');
});

it('records each call in the audit trail as face huks', async () => {
  await huks.generate('audited', aesProps(256, ENCRYPT | DECRYPT));
  const h = await huks.init('audited', gcmProps(ENCRYPT, crypto.randomBytes(12), Buffer.alloc(0)));
  await huks.finish(h, Buffer.from('x'));
  const lines = await waitForRecords(kms.env, (l) => l.filter((x) => x.face === 'huks' && x.action === 'finishSession').length > 0 && l.some((x) => x.face === 'huks' && x.action === 'initSession'));
  const init = lines.filter((l) => l.face === 'huks' && l.action === 'initSession' && l.result === 'Success');
  expect(init.length).toBeGreaterThan(0);
  expect(init[init.length - 1]).toMatchObject({ account: cred.Uin, secretId: cred.SecretId, requestId: expect.stringMatching(/^[0-9a-f]{32}$/) });
  expect(init[init.length - 1].keys.length).toBe(1);
});

it('uses by alias a key whose material was imported wrapped, through the existing BYOK flow', async () => {
  const tc = kmsClient(kms.endpoint, cred);
  const { KeyId } = await tc.CreateKey({ Alias: 'byok-wrapped', Type: 2 });
  const m = newMaterial(fs.mkdtempSync(path.join(os.tmpdir(), 'kms-huks-byok-')), 32);
  const p = await tc.GetParametersForImport({ KeyId: KeyId!, WrappingAlgorithm: 'RSAES_OAEP_SHA_1', WrappingKeySpec: 'RSA_2048' });
  await tc.ImportKeyMaterial({ KeyId: KeyId!, ImportToken: p.ImportToken!, EncryptedKeyMaterial: wrapMaterial(m.dir, p.PublicKey!, 'RSAES_OAEP_SHA_1') });
  const nonce = crypto.randomBytes(12);
  const h = await huks.init('byok-wrapped', gcmProps(ENCRYPT, nonce, Buffer.from('wrapped')));
  const sealed = await huks.finish(h, Buffer.from('known material'));
  const d = crypto.createDecipheriv('aes-256-gcm', m.material, nonce);
  d.setAAD(Buffer.from('wrapped'));
  d.setAuthTag(sealed.subarray(sealed.length - 16));
  expect(Buffer.concat([d.update(sealed.subarray(0, sealed.length - 16)), d.final()]).toString()).toBe('known material');
});

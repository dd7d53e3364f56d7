import * as crypto from 'node:crypto';
import huks, { BusinessError, HuksReturnResult, HuksSessionHandle, HuksTag } from '../src/client/huks';
import { aesKey, buf, gcm, segments, stream, u8, useAccount } from './support/huks-session';
import { Credential, KmsService } from './support/kms-service';

/**
 * The HUKS face driven only through the client library `hsm-kms/huks`, on a real token and
 * database: every function in its callback and its Promise form, GCM as HUKS API 9 does it,
 * 10 MB streamed in 64 KiB segments and checked with Node's crypto, the other modes and HMAC,
 * and abort mid-stream.
 */
let kms: KmsService;
let cred: Credential;

beforeAll(async () => {
  kms = await KmsService.start();
  cred = await kms.createAccount('huks-client');
});
afterAll(() => kms.stop());
beforeEach(() => useAccount(kms, cred));

const { HuksKeyPurpose: PURPOSE, HuksKeyAlg: ALG, HuksCipherMode: MODE, HuksKeyPadding: PAD, HuksKeyDigest: DIGEST } = huks;
const ENC = PURPOSE.HUKS_KEY_PURPOSE_ENCRYPT;
const DEC = PURPOSE.HUKS_KEY_PURPOSE_DECRYPT;

/** The callback form as a promise of [err, data]. */
function viaCallback<T>(f: (cb: (e: BusinessError | null, d: T) => void) => void): Promise<[BusinessError | null, T]> {
  return new Promise((resolve) => f((e, d) => resolve([e, d])));
}

describe('every function, in both forms', () => {
  it('generates, tells, uses and deletes keys by alias with callbacks', async () => {
    expect(await viaCallback<void>((cb) => huks.generateKeyItem('cb-key', { properties: aesKey(128) }, cb))).toEqual([null, undefined]);
    expect(await viaCallback<boolean>((cb) => huks.hasKeyItem('cb-key', {}, cb))).toEqual([null, true]);
    const nonce = u8(crypto.randomBytes(12));
    const enc = gcm(ENC, { bits: 128, nonce });
    const [e1, session] = await viaCallback<HuksSessionHandle>((cb) => huks.initSession('cb-key', { properties: enc }, cb));
    expect(e1).toBeNull();
    expect(session).toEqual({ handle: expect.any(Number) });
    const [e2, upd] = await viaCallback<HuksReturnResult>((cb) => huks.updateSession(session.handle, { properties: enc, inData: u8('sixteen bytes!!!') }, cb));
    expect(e2).toBeNull();
    const [e3, upd2] = await viaCallback<HuksReturnResult>((cb) => huks.updateSession(session.handle, { properties: enc, inData: u8('more') }, new Uint8Array(0), cb));
    expect(e3).toBeNull();
    const [e4, fin] = await viaCallback<HuksReturnResult>((cb) => huks.finishSession(session.handle, { properties: enc, inData: u8('!') }, cb));
    expect(e4).toBeNull();
    const sealed = Buffer.concat([buf(upd.outData), buf(upd2.outData), buf(fin.outData)]);
    expect(sealed.length).toBe(21 + 16);
    // Decrypt with the token form of finish; the tag travels as AE_TAG.
    const dec = gcm(DEC, { bits: 128, nonce, aeTag: u8(sealed.subarray(21)) });
    const [, s2] = await viaCallback<HuksSessionHandle>((cb) => huks.initSession('cb-key', { properties: dec }, cb));
    const [e5, plain] = await viaCallback<HuksReturnResult>((cb) => huks.finishSession(s2.handle, { properties: dec, inData: u8(sealed.subarray(0, 21)) }, new Uint8Array(0), cb));
    expect(e5).toBeNull();
    expect(buf(plain.outData).toString()).toBe('sixteen bytes!!!more!');
    // Abort.
    const [, s3] = await viaCallback<HuksSessionHandle>((cb) => huks.initSession('cb-key', { properties: enc }, cb));
    expect(await viaCallback<void>((cb) => huks.abortSession(s3.handle, {}, cb))).toEqual([null, undefined]);
    // Delete; then it is gone.
    expect(await viaCallback<void>((cb) => huks.deleteKeyItem('cb-key', { properties: [] }, cb))).toEqual([null, undefined]);
    expect(await viaCallback<boolean>((cb) => huks.hasKeyItem('cb-key', {}, cb))).toEqual([null, false]);
    // Errors reach the callback as BusinessError, data undefined: a deleted key waits out its
    // deletion window, unusable (docs/huks-protocol.md: KeyState).
    const [err, data] = await viaCallback<HuksSessionHandle>((cb) => huks.initSession('cb-key', { properties: enc }, cb));
    expect(err).toBeInstanceOf(BusinessError);
    expect(err).toMatchObject({ code: 12000012, reason: 'KeyState' });
    expect(data).toBeUndefined();
    const [ierr] = await viaCallback<void>((cb) => huks.importKeyItem('cb-imported', { properties: aesKey(256), inData: new Uint8Array(32).fill(7) }, cb));
    expect(ierr).toBeNull();
    expect(await huks.hasKeyItem('cb-imported', {})).toBe(true);
  });

  it('does the same with promises', async () => {
    await expect(huks.generateKeyItem('p-key', { properties: aesKey(192) })).resolves.toBeUndefined();
    await expect(huks.hasKeyItem('p-key', { properties: [] })).resolves.toBe(true);
    await expect(huks.hasKeyItem('p-none', { properties: [] })).resolves.toBe(false);
    const nonce = u8(crypto.randomBytes(12));
    const aad = u8('promise form');
    const enc = gcm(ENC, { bits: 192, nonce, aad });
    const { handle } = await huks.initSession('p-key', { properties: enc });
    const a = await huks.updateSession(handle, { properties: enc, inData: u8('hello ') });
    const b = await huks.updateSession(handle, { properties: enc, inData: u8('huks') }, new Uint8Array(0));
    const c = await huks.finishSession(handle, { properties: enc }, new Uint8Array(0));
    const sealed = Buffer.concat([buf(a.outData), buf(b.outData), buf(c.outData)]);
    const dec = gcm(DEC, { bits: 192, nonce, aad, aeTag: u8(sealed.subarray(-16)) });
    expect((await stream('p-key', dec, [u8(sealed.subarray(0, -16))])).toString()).toBe('hello huks');
    const s = await huks.initSession('p-key', { properties: enc });
    await expect(huks.abortSession(s.handle, {})).resolves.toBeUndefined();
    await expect(huks.importKeyItem('p-imported', { properties: aesKey(128), inData: new Uint8Array(16) })).resolves.toBeUndefined();
    await expect(huks.deleteKeyItem('p-key', {})).resolves.toBeUndefined();
    await expect(huks.hasKeyItem('p-key', {})).resolves.toBe(false);
    await expect(huks.deleteKeyItem('p-key', {})).rejects.toMatchObject({ code: 12000012, reason: 'KeyState' });
    await expect(huks.deleteKeyItem('p-never', {})).rejects.toMatchObject({ code: 12000011, reason: 'KeyNotFound' });
  });
});

describe('AES-GCM as HUKS API 9, checked with Node crypto', () => {
  const key = crypto.randomBytes(32);
  const nonce = crypto.randomBytes(12);
  const aad = crypto.randomBytes(40);
  const data = crypto.randomBytes(10 * 1024 * 1024);
  let sealed: Buffer;

  beforeAll(async () => {
    useAccount(kms, cred);
    await huks.importKeyItem('gcm-known', { properties: aesKey(256), inData: u8(key) });
  });

  it('streams 10 MB in 64 KiB segments: ciphertext then the 16-byte tag, as Node computes it', async () => {
    const enc = gcm(ENC, { bits: 256, nonce: u8(nonce), aad: u8(aad) });
    sealed = await stream('gcm-known', enc, segments(data, 64 * 1024));
    expect(sealed.length).toBe(data.length + 16);
    const c = crypto.createCipheriv('aes-256-gcm', key, nonce).setAAD(aad);
    const want = Buffer.concat([c.update(data), c.final(), c.getAuthTag()]);
    expect(sealed.equals(want)).toBe(true);
  });

  it('decrypts the 10 MB back in 64 KiB segments, with the tag as AE_TAG and inData without it', async () => {
    const dec = gcm(DEC, { bits: 256, nonce: u8(nonce), aad: u8(aad), aeTag: u8(sealed.subarray(-16)) });
    const plain = await stream('gcm-known', dec, segments(sealed.subarray(0, -16), 64 * 1024));
    expect(plain.equals(data)).toBe(true);
  });

  it('decrypts what Node encrypted, with AE_TAG given only on finish', async () => {
    const n = crypto.randomBytes(12);
    const c = crypto.createCipheriv('aes-256-gcm', key, n);
    const msg = Buffer.from('encrypted by node, opened in the token');
    const ct = Buffer.concat([c.update(msg), c.final()]);
    const props = gcm(DEC, { bits: 256, nonce: u8(n) });
    const plain = await stream('gcm-known', props, [u8(ct.subarray(0, 10))], u8(ct.subarray(10)), [...props, { tag: HuksTag.HUKS_TAG_AE_TAG, value: u8(c.getAuthTag()) }]);
    expect(plain.equals(msg)).toBe(true);
  });

  it('answers 12000008 for a tag, AAD or ciphertext that does not verify, and ends the session', async () => {
    const ct = sealed.subarray(0, 1024);
    const bad = Buffer.from(sealed.subarray(-16));
    bad[0] ^= 1;
    const dec = gcm(DEC, { bits: 256, nonce: u8(nonce), aad: u8(aad), aeTag: u8(bad) });
    const { handle } = await huks.initSession('gcm-known', { properties: dec });
    await expect(huks.finishSession(handle, { properties: dec, inData: u8(ct) })).rejects.toMatchObject({ code: 12000008, reason: 'VerifyFailed' });
    await expect(huks.abortSession(handle, {})).rejects.toMatchObject({ code: 12000011 });
  });

  it('refuses a NONCE or AAD on a later call that differs from init (12000003)', async () => {
    const enc = gcm(ENC, { bits: 256, nonce: u8(nonce), aad: u8(aad) });
    const { handle } = await huks.initSession('gcm-known', { properties: enc });
    const other = gcm(ENC, { bits: 256, nonce: u8(crypto.randomBytes(12)), aad: u8(aad) });
    await expect(huks.updateSession(handle, { properties: other, inData: u8('x') })).rejects.toMatchObject({ code: 12000003 });
  });
});

describe('the other modes and HMAC, checked with Node crypto', () => {
  const key = crypto.randomBytes(16);
  const iv = crypto.randomBytes(16);
  const data = crypto.randomBytes(200_000);
  const props = (mode: number, padding: number, purpose: number, withIv = true) => [
    ...aesKey(128, purpose),
    { tag: HuksTag.HUKS_TAG_BLOCK_MODE, value: mode },
    { tag: HuksTag.HUKS_TAG_PADDING, value: padding },
    ...(withIv ? [{ tag: HuksTag.HUKS_TAG_IV, value: u8(iv) }] : []),
  ];
  beforeAll(async () => {
    useAccount(kms, cred);
    await huks.importKeyItem('modes-known', { properties: aesKey(128), inData: u8(key) });
  });

  it.each([
    ['CBC PKCS7', MODE.HUKS_MODE_CBC, PAD.HUKS_PADDING_PKCS7, 'aes-128-cbc', true, true],
    ['CBC NONE', MODE.HUKS_MODE_CBC, PAD.HUKS_PADDING_NONE, 'aes-128-cbc', true, false],
    ['CTR', MODE.HUKS_MODE_CTR, PAD.HUKS_PADDING_NONE, 'aes-128-ctr', true, false],
    ['ECB NONE', MODE.HUKS_MODE_ECB, PAD.HUKS_PADDING_NONE, 'aes-128-ecb', false, false],
  ])('%s: streamed, equal to Node, and back', async (_name, mode, padding, nodeName, withIv, autoPadding) => {
    const input = autoPadding || nodeName === 'aes-128-ctr' ? data : data.subarray(0, 199_984);
    const c = crypto.createCipheriv(nodeName, key, withIv ? iv : null).setAutoPadding(autoPadding);
    const want = Buffer.concat([c.update(input), c.final()]);
    const ct = await stream('modes-known', props(mode, padding, ENC, withIv), segments(input, 65_536));
    expect(ct.equals(want)).toBe(true);
    const back = await stream('modes-known', props(mode, padding, DEC, withIv), segments(ct, 65_536));
    expect(back.equals(input)).toBe(true);
  });

  it('refuses data that is not a block multiple with NONE padding (12000003)', async () => {
    await expect(stream('modes-known', props(MODE.HUKS_MODE_CBC, PAD.HUKS_PADDING_NONE, ENC), [], u8('fifteen bytes!!'))).rejects.toMatchObject({ code: 12000003 });
  });

  it('computes HMAC-SHA256 over streamed data with an imported key', async () => {
    const macKey = crypto.randomBytes(32);
    const mac = [
      { tag: HuksTag.HUKS_TAG_ALGORITHM, value: ALG.HUKS_ALG_HMAC },
      { tag: HuksTag.HUKS_TAG_KEY_SIZE, value: 256 },
      { tag: HuksTag.HUKS_TAG_PURPOSE, value: PURPOSE.HUKS_KEY_PURPOSE_MAC },
      { tag: HuksTag.HUKS_TAG_DIGEST, value: DIGEST.HUKS_DIGEST_SHA256 },
    ];
    await huks.importKeyItem('mac-known', { properties: mac, inData: u8(macKey) });
    const out = await stream('mac-known', mac, segments(data, 65_536));
    expect(out.equals(crypto.createHmac('sha256', macKey).update(data).digest())).toBe(true);
    await huks.generateKeyItem('mac-generated', { properties: mac });
    expect((await stream('mac-generated', mac, [u8('a')])).length).toBe(32);
  });
});

describe('abort', () => {
  it('ends a session mid-stream at once: its handle answers 12000011 from then on', async () => {
    await huks.generateKeyItem('abort-key', { properties: aesKey(256) });
    const enc = gcm(ENC, { bits: 256, nonce: u8(crypto.randomBytes(12)) });
    const { handle } = await huks.initSession('abort-key', { properties: enc });
    for (let i = 0; i < 4; i++) await huks.updateSession(handle, { properties: enc, inData: u8(crypto.randomBytes(65_536)) });
    await huks.abortSession(handle, { properties: enc });
    await expect(huks.updateSession(handle, { properties: enc, inData: u8('x') })).rejects.toMatchObject({ code: 12000011, reason: 'SessionNotFound' });
    await expect(huks.finishSession(handle, { properties: enc })).rejects.toMatchObject({ code: 12000011 });
    await expect(huks.abortSession(handle, {})).rejects.toMatchObject({ code: 12000011 });
  });

  it('a finished session is gone too', async () => {
    const enc = gcm(ENC, { bits: 256, nonce: u8(crypto.randomBytes(12)) });
    const { handle } = await huks.initSession('abort-key', { properties: enc });
    await huks.finishSession(handle, { properties: enc, inData: u8('x') });
    await expect(huks.updateSession(handle, { properties: enc, inData: u8('x') })).rejects.toMatchObject({ code: 12000011 });
  });
});

import * as crypto from 'node:crypto';
import { Algorithm, EncryptSDKError, KeyManager, KeyManagerOptions, createDecryptStream, decrypt, encrypt } from '../../src/sdk';
import { KmsClient } from '../../src/sdk/kms-client';
import { FRAME_PREFIX_BYTES, parseHeader } from '../../src/sdk/message-format';

/**
 * The KeyManager's own rules, with the three KMS calls answered in memory (the service's side
 * is test/sdk.e2e.test.ts): loopback-only plain HTTP, finite cache defaults, strict mode, data
 * keys zeroed, and the bound on an unframed message in a decrypt stream.
 */

const G = 'ap-guangzhou';
/** Every plaintext data key the fake KMS handed out, as handed out: each must end up zeroed or cached. */
let issued: Buffer[];
let calls: { generate: number; decrypt: number };

/** A blob the fake KMS opens again: which CMK sealed which key (a real one is opaque). */
const blobOf = (keyId: string, key: Buffer) => Buffer.from(JSON.stringify({ keyId, key: key.toString('hex') })).toString('base64');

beforeEach(() => {
  issued = [];
  calls = { generate: 0, decrypt: 0 };
  jest.spyOn(KmsClient.prototype, 'generateDataKey').mockImplementation(async (_region, keyId, bytes) => {
    calls.generate++;
    const key = crypto.randomBytes(bytes);
    const blob = blobOf(keyId, key);
    issued.push(key);
    return { plaintext: key, blob, keyId };
  });
  jest.spyOn(KmsClient.prototype, 'encrypt').mockImplementation(async (_region, keyId, plaintext) => ({ blob: blobOf(keyId, plaintext), keyId }));
  jest.spyOn(KmsClient.prototype, 'decrypt').mockImplementation(async (_region, blob) => {
    calls.decrypt++;
    const { keyId, key } = JSON.parse(Buffer.from(blob, 'base64').toString());
    const plaintext = Buffer.from(key, 'hex');
    issued.push(plaintext);
    return { plaintext, keyId };
  });
});
afterEach(() => jest.restoreAllMocks());

const managers: KeyManager[] = [];
afterAll(() => managers.forEach((m) => m.close()));
function manager(masterKeys: Array<{ region: string; keyId: string }>, more: Partial<KeyManagerOptions> = {}): KeyManager {
  const km = new KeyManager({ endpoint: 'http://127.0.0.1:1', secretId: 'id', secretKey: 'key', masterKeys, ...more });
  managers.push(km);
  return km;
}
const refusal = (f: () => unknown): EncryptSDKError | undefined => {
  try {
    f();
  } catch (e) {
    return e as EncryptSDKError;
  }
  return undefined;
};
const zeroed = (b: Buffer) => b.every((x) => x === 0);

describe('the endpoint', () => {
  const make = (endpoint: string) => () => new KeyManager({ endpoint, secretId: 'id', secretKey: 'key', masterKeys: [{ region: G, keyId: 'k' }] }).close();

  it('takes https:// to any host, and http:// only to a loopback host', () => {
    for (const ok of ['https://kms.example:8443', 'https://10.0.0.1', 'http://127.0.0.1:8080', 'http://127.3.2.1', 'http://localhost:80', 'http://[::1]:8080', 'http://[::ffff:127.0.0.1]:8080']) expect([ok, refusal(make(ok))]).toEqual([ok, undefined]);
    for (const bad of ['http://kms.example:8080', 'http://10.0.0.1:8080', 'http://0.0.0.0:8080', 'http://127.0.0.1.nip.io', 'http://[::ffff:10.0.0.1]', 'http://[fe80::1]', 'ftp://127.0.0.1']) {
      expect([bad, refusal(make(bad))]).toEqual([bad, expect.objectContaining({ code: 'InvalidParameter', message: expect.stringContaining('https://') })]);
    }
  });
});

describe('the cache limits', () => {
  let now: number;
  beforeEach(() => {
    now = Date.now();
    jest.spyOn(Date, 'now').mockImplementation(() => now);
  });

  it('are finite when not given: a data key encrypts and decrypts from the cache for 300 s', async () => {
    const km = manager([{ region: G, keyId: 'k' }]);
    expect([km.msgCount, km.enExpireTime, km.deExpireTime]).toEqual([10_000, 300, 300]);
    const one = await encrypt('a', km, Algorithm.SM4_GCM_128);
    await encrypt('b', km, Algorithm.SM4_GCM_128);
    await decrypt(one.ciphertext, km);
    await decrypt(one.ciphertext, km);
    expect(calls).toEqual({ generate: 1, decrypt: 1 });
    now += 300_000;
    await encrypt('c', km, Algorithm.SM4_GCM_128);
    await decrypt(one.ciphertext, km);
    expect(calls).toEqual({ generate: 2, decrypt: 2 });
  });

  it('keep the seed\'s 0 (no limit) when given', async () => {
    const km = manager([{ region: G, keyId: 'k' }], { msgCount: 0, enExpireTime: 0, deExpireTime: 0 });
    const one = await encrypt('a', km, Algorithm.SM4_GCM_128);
    await decrypt(one.ciphertext, km);
    now += 365 * 86_400_000;
    await encrypt('b', km, Algorithm.SM4_GCM_128);
    await decrypt(one.ciphertext, km);
    expect(calls).toEqual({ generate: 1, decrypt: 1 });
  });
});

describe('strict mode', () => {
  it('decrypts only with the master keys given, without asking the KMS about others', async () => {
    const { ciphertext } = await encrypt('secret', manager([{ region: G, keyId: 'a' }]), Algorithm.AES_256_GCM);
    const e = await decrypt(ciphertext, manager([{ region: G, keyId: 'b' }])).catch((x: EncryptSDKError) => x);
    expect(e).toMatchObject({ code: 'DecryptDataKeyError', message: expect.stringContaining('strict mode'), attempts: [expect.objectContaining({ keyId: 'a', code: 'MasterKeyNotAllowed' })] });
    expect(calls.decrypt).toBe(0);
    // The same key id in another region is another key.
    expect(await decrypt(ciphertext, manager([{ region: 'ap-shanghai', keyId: 'a' }])).catch((x: EncryptSDKError) => x.code)).toBe('DecryptDataKeyError');
    expect((await decrypt(ciphertext, manager([{ region: G, keyId: 'b' }, { region: G, keyId: 'a' }]))).plaintext.toString()).toBe('secret');
    expect((await decrypt(ciphertext, manager([], { discovery: true }))).plaintext.toString()).toBe('secret');
  });

  it('refuses a data key the KMS opened with another CMK than the header names, and zeroes it', async () => {
    jest.mocked(KmsClient.prototype.generateDataKey).mockImplementationOnce(async (_region, _keyId, bytes) => {
      const key = crypto.randomBytes(bytes);
      const blob = blobOf('evil', key);
      issued.push(key);
      return { plaintext: key, blob, keyId: 'good' };
    });
    const { ciphertext, header } = await encrypt('x', manager([{ region: G, keyId: 'good' }], { cacheCapacity: 0 }), Algorithm.SM4_GCM_128);
    expect(header.dataKey[0].cmkKeyId).toBe('good');
    const e = await decrypt(ciphertext, manager([{ region: G, keyId: 'good' }])).catch((x: EncryptSDKError) => x);
    expect(e).toMatchObject({ code: 'DecryptDataKeyError', attempts: [expect.objectContaining({ code: 'MasterKeyNotAllowed', message: expect.stringContaining('evil') })] });
    expect(issued.map(zeroed)).toEqual([true, true]);
  });

  it('needs master keys, or discovery: true', () => {
    expect(refusal(() => manager([]))).toMatchObject({ code: 'InvalidParameter', message: expect.stringContaining('discovery') });
    expect(refusal(() => manager([], { discovery: 'yes' as never }))).toMatchObject({ code: 'InvalidParameter' });
  });
});

it('zeroes a data key reloaded after another load pushed it out of the cache', async () => {
  const writer = manager([{ region: G, keyId: 'k' }], { cacheCapacity: 0 });
  const messages = await Promise.all(['one', 'two', 'three'].map((t) => encrypt(t, writer, Algorithm.SM4_CBC_128)));
  const km = manager([{ region: G, keyId: 'k' }], { cacheCapacity: 1 });
  // Three loads finish together: each pushes the one before out before its caller copies it.
  const back = await Promise.all(messages.map((m) => decrypt(m.ciphertext, km)));
  expect(back.map((b) => b.plaintext.toString())).toEqual(['one', 'two', 'three']);
  expect(calls.decrypt).toBeGreaterThan(3);
  km.clearCache();
  expect(issued.filter((b) => !zeroed(b))).toEqual([]);
});

describe('an unframed message in a decrypt stream', () => {
  /** The stream's error once `chunks` and the end are written, or its plaintext. */
  const streamed = (km: KeyManager, chunks: Buffer[], maxUnframedBytes?: number): Promise<EncryptSDKError | Buffer> =>
    new Promise((resolve) => {
      const d = createDecryptStream(km, maxUnframedBytes === undefined ? {} : { maxUnframedBytes });
      const out: Buffer[] = [];
      d.on('data', (c: Buffer) => out.push(c));
      d.on('error', (e) => resolve(e as EncryptSDKError));
      d.on('end', () => resolve(Buffer.concat(out)));
      for (const c of chunks) d.write(c);
      d.end();
    });

  it('is refused from its frame\'s declared length beyond maxUnframedBytes (64 MiB by default)', async () => {
    const km = manager([{ region: G, keyId: 'k' }]);
    const data = crypto.randomBytes(2000);
    const { ciphertext } = await encrypt(data, km, Algorithm.SM4_GCM_128_WITH_SIGNATURE);
    expect(((await streamed(km, [ciphertext])) as Buffer).equals(data)).toBe(true);
    expect(((await streamed(km, [ciphertext], 2000)) as Buffer).equals(data)).toBe(true);
    const headerLength = parseHeader(ciphertext)!.length;
    const head = ciphertext.subarray(0, headerLength + FRAME_PREFIX_BYTES);
    expect(await streamed(km, [head], 1999)).toMatchObject({ code: 'InvalidMessage', message: expect.stringContaining('maxUnframedBytes') });
    // A genuine header (its MAC does not cover the frames) with a frame declaring 4 GiB.
    const forged = Buffer.from(head);
    forged.writeUInt32BE(0xffffffff, headerLength + 5);
    expect(await streamed(km, [forged])).toMatchObject({ code: 'InvalidMessage', message: expect.stringContaining('at most 67108864 bytes') });
    for (const bad of [0, 1.5, 2 ** 32]) expect(refusal(() => createDecryptStream(km, { maxUnframedBytes: bad }))).toMatchObject({ code: 'InvalidParameter' });
  });
});

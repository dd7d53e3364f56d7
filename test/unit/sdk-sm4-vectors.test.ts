import * as crypto from 'node:crypto';
import { ghash } from '@noble/ciphers/_polyval';
import { sm3, sm4 } from 'sm-crypto-v2';
import { ALGORITHMS, Suite } from '../../src/sdk/algorithms';
import { openFrame, sealFrame } from '../../src/sdk/frame-cipher';
import * as local from '../../src/sdk/local-crypto';

/**
 * Every SM4 mode the SDK uses, checked against published known-answer vectors (GB/T 32907's
 * example, draft-ribose-cfrg-sm4 for CBC and CTR, RFC 8998 for GCM, including IVs that are not
 * 12 bytes) and against a second implementation: sm-crypto-v2 for what the SDK takes from
 * Node's OpenSSL (CBC, ECB, CTR through its raw block), and Node's SM4 with @noble/ciphers'
 * GHASH for the SM4-GCM the SDK takes from sm-crypto-v2.
 */

const h = (s: string) => Buffer.from(s.replace(/\s/g, ''), 'hex');
const KEY = h('0123456789ABCDEFFEDCBA9876543210');
const P64 = h('AAAAAAAAAAAAAAAABBBBBBBBBBBBBBBBCCCCCCCCCCCCCCCCDDDDDDDDDDDDDDDDEEEEEEEEEEEEEEEEFFFFFFFFFFFFFFFFEEEEEEEEEEEEEEEEAAAAAAAAAAAAAAAA');
const suite = (name: string): Suite => ALGORITHMS.find((s) => s.name === name)!;
const NONE = Buffer.alloc(0);

/** sm-crypto-v2's raw SM4 block: ECB without padding. */
const block = (key: Buffer, data: Buffer): Buffer => Buffer.from(sm4.encrypt(data, key, { mode: 'ecb', padding: 'none', output: 'array' }));

/** CTR from a second SM4 (sm-crypto-v2's block) with a 128-bit big-endian counter. */
function ctrBySecond(key: Buffer, iv: Buffer, data: Buffer): Buffer {
  const out = Buffer.alloc(data.length);
  let counter = BigInt(`0x${iv.toString('hex')}`);
  for (let at = 0; at < data.length; at += 16) {
    const ks = block(key, h(counter.toString(16).padStart(32, '0')));
    for (let i = 0; i < 16 && at + i < data.length; i++) out[at + i] = data[at + i] ^ ks[i];
    counter = (counter + 1n) % (1n << 128n);
  }
  return out;
}

/** GCM (NIST SP 800-38D) from Node's SM4 (ECB for H and J0, CTR for the data) and noble's GHASH. */
function gcmBySecond(key: Buffer, iv: Buffer, aad: Buffer, data: Buffer): { ct: Buffer; tag: Buffer } {
  const ecb = (b: Buffer) => {
    const c = crypto.createCipheriv('sm4-ecb', key, null);
    c.setAutoPadding(false);
    return c.update(b);
  };
  const hk = ecb(Buffer.alloc(16));
  const lengths = (a: number, b: number) => {
    const x = Buffer.alloc(16);
    x.writeBigUInt64BE(BigInt(a * 8), 0);
    x.writeBigUInt64BE(BigInt(b * 8), 8);
    return x;
  };
  let j0: Buffer;
  if (iv.length === 12) j0 = Buffer.concat([iv, h('00000001')]);
  else j0 = Buffer.from(ghash.create(hk).update(iv).update(lengths(0, iv.length)).digest());
  const start = Buffer.from(j0);
  start.writeUInt32BE((start.readUInt32BE(12) + 1) >>> 0, 12);
  const c = crypto.createCipheriv('sm4-ctr', key, start);
  const ct = c.update(data);
  const s = Buffer.from(ghash.create(hk).update(aad).update(ct).update(lengths(aad.length, ct.length)).digest());
  const mask = ecb(j0);
  return { ct, tag: Buffer.from(s.map((b, i) => b ^ mask[i])) };
}

it('SM4 block: GB/T 32907 example 1 through Node and sm-crypto-v2', () => {
  expect(local.sm4EcbEncrypt(KEY, KEY).subarray(0, 16).toString('hex')).toBe('681edf34d206965e86b3e94f536e4246');
  expect(block(KEY, KEY).toString('hex')).toBe('681edf34d206965e86b3e94f536e4246');
});

it('SM4-CBC: draft-ribose vector, and sm-crypto-v2 agrees on padded data', () => {
  const p = Buffer.concat([KEY, KEY]);
  const noPad = crypto.createCipheriv('sm4-cbc', KEY, KEY).setAutoPadding(false);
  expect(Buffer.concat([noPad.update(p), noPad.final()]).toString('hex')).toBe('2677f46b09c122cc975533105bd4a22af6125f7275ce552c3a2bbcf533de8a3b');
  const iv = crypto.randomBytes(16);
  for (const n of [1, 15, 16, 17, 100]) {
    const data = crypto.randomBytes(n);
    const mine = sealFrame(suite('SM4_CBC_128'), KEY, iv, NONE, data).ciphertext;
    expect(mine).toEqual(Buffer.from(sm4.encrypt(data, KEY, { mode: 'cbc', iv, output: 'array' })));
    expect(local.sm4CbcEncrypt(data, KEY, iv)).toEqual(mine);
    expect(local.sm4CbcDecrypt(mine, KEY, iv)).toEqual(data);
  }
});

it('SM4-ECB: sm-crypto-v2 agrees (PKCS#7)', () => {
  for (const n of [1, 16, 33]) {
    const data = crypto.randomBytes(n);
    const mine = sealFrame(suite('SM4_ECB_128'), KEY, NONE, NONE, data).ciphertext;
    expect(mine).toEqual(Buffer.from(sm4.encrypt(data, KEY, { mode: 'ecb', output: 'array' })));
    expect(openFrame(suite('SM4_ECB_128'), KEY, NONE, NONE, mine, NONE)).toEqual(data);
  }
});

it('SM4-CTR: draft-ribose vector, and a counter over sm-crypto-v2 blocks agrees', () => {
  const want = 'c2b4759e78ac3cf43d0852f4e8d5f9fd7256e8a5fcb65a350ee00630912e44492a0b17e1b85b060d0fba612d8a95831638b361fd5ffacd942f081485a83ca35d';
  expect(sealFrame(suite('SM4_CTR_128'), KEY, KEY, NONE, P64).ciphertext.toString('hex')).toBe(want);
  expect(local.sm4CtrEncrypt(P64, KEY, KEY).toString('hex')).toBe(want);
  const iv = Buffer.from('ffffffffffffffffffffffffffffffff', 'hex'); // wraps around
  const data = crypto.randomBytes(50);
  expect(local.sm4CtrEncrypt(data, KEY, iv)).toEqual(ctrBySecond(KEY, iv, data));
});

describe('SM4-GCM: RFC 8998 and OpenSSL-test vectors, and a second construction', () => {
  const AAD = h('FEEDFACEDEADBEEFFEEDFACEDEADBEEFABADDAD2');
  const vectors: Array<[string, string, string]> = [
    ['00001234567800000000ABCD', '17F399F08C67D5EE19D0DC9969C4BB7D5FD46FD3756489069157B282BB200735D82710CA5C22F0CCFA7CBF93D496AC15A56834CBCF98C397B4024A2691233B8D', '83DE3541E4C2B58177E065A9BF7B62EC'],
    ['0000123456', 'AFC1AE4D36621D6FC2B70049D1CEC502C319BE54D3675349B87CB3A28D9E624050D00DF3295B36E88F26764143DE1AFF5B126F44EA4C3B272024F331AFAD9344', '3A9E89A8EEC3C13D039DF66050A31EEB'],
    ['00001234567800000000ABCDEFFEDCBA', '1D3070414D4B84A246799E8AFA128C19F80633BE7D34327AE5D6B137C2B62B2C589AD49E79A5215A1453D8C919DB8150EC8D8960A5CEDAD99AF0E90FE7D3462A', '4FD653A77490A98CD3F88AD5A5F472FF'],
    ['00001234567800000000ABCDEFFEDCBA12345678', 'EDE3D23080BB2F9329E724BEBD0FE93AB374F01F2A54C643AE99A25CB8ED0FBAC57359D2CFA96C72A4B1EE682DE0B31257ED9AEB1FD8D971D581644A9AD05B17', '32B7BE61375B56E91087295A33B93D5B'],
  ];
  it.each(vectors)('IV %s', (iv, ct, tag) => {
    const r = local.sm4GcmEncrypt(P64, KEY, h(iv), AAD);
    expect([r.ciphertext.toString('hex'), r.tag.toString('hex')]).toEqual([ct.toLowerCase(), tag.toLowerCase()]);
    const second = gcmBySecond(KEY, h(iv), AAD, P64);
    expect([second.ct.toString('hex'), second.tag.toString('hex')]).toEqual([ct.toLowerCase(), tag.toLowerCase()]);
    expect(local.sm4GcmDecrypt(h(ct), KEY, h(iv), AAD, h(tag))).toEqual(P64);
  });

  it('agrees with the second construction on random inputs, and refuses a wrong tag, AAD or ciphertext', () => {
    const s = suite('SM4_GCM_128');
    for (const n of [0, 1, 16, 31, 1000]) {
      const key = crypto.randomBytes(16);
      const iv = crypto.randomBytes(12);
      const aad = crypto.randomBytes(n % 7);
      const data = crypto.randomBytes(n);
      const mine = sealFrame(s, key, iv, aad, data);
      const second = gcmBySecond(key, iv, aad, data);
      expect([mine.ciphertext, mine.tag]).toEqual([second.ct, second.tag]);
      expect(openFrame(s, key, iv, aad, mine.ciphertext, mine.tag)).toEqual(data);
      const bad = Buffer.from(mine.tag);
      bad[0] ^= 1;
      expect(() => openFrame(s, key, iv, aad, mine.ciphertext, bad)).toThrow(expect.objectContaining({ code: 'LocalDecryptError' }));
      expect(() => openFrame(s, key, iv, Buffer.concat([aad, Buffer.from('x')]), mine.ciphertext, mine.tag)).toThrow(expect.objectContaining({ code: 'LocalDecryptError' }));
      if (n > 0) {
        const ct = Buffer.from(mine.ciphertext);
        ct[n - 1] ^= 0x80;
        expect(() => openFrame(s, key, iv, aad, ct, mine.tag)).toThrow(expect.objectContaining({ code: 'LocalDecryptError' }));
      }
      expect(() => openFrame(s, key, iv, aad, mine.ciphertext, NONE)).toThrow(expect.objectContaining({ code: 'LocalDecryptError' }));
    }
  });
});

it('SM3 and its HMAC (the frames\' signature) agree with sm-crypto-v2', () => {
  expect(local.sm3Digest(Buffer.from('abc')).toString('hex')).toBe('66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0');
  const key = crypto.randomBytes(32);
  const data = crypto.randomBytes(100);
  expect(local.sm3Hmac(data, key).toString('hex')).toBe(sm3(data, { key, mode: 'hmac' }));
});

it('SM2 helpers: sign/verify (message and digest), encrypt/decrypt, PEM to the 64-byte key', () => {
  const { publicKey, privateKey } = local.sm2GetKey();
  expect([publicKey.length, privateKey.length]).toEqual([64, 32]);
  const msg = Buffer.from('the seed\'s Sm2Sign');
  const sig = local.sm2Sign(publicKey, privateKey, msg);
  expect(local.sm2Verify(publicKey, msg, sig)).toBe(true);
  expect(local.sm2Verify(publicKey, Buffer.from('another'), sig)).toBe(false);
  const digest = local.hashForSm3WithSm2(msg, publicKey);
  expect(local.sm2VerifyWithDigest(publicKey, sig, digest)).toBe(true);
  expect(local.sm2Verify(publicKey, msg, local.sm2SignWithDigest(publicKey, privateKey, digest))).toBe(true);
  expect(local.sm2Decrypt(privateKey, local.sm2Encrypt(publicKey, msg))).toEqual(msg);
  const pem = crypto.generateKeyPairSync('ec', { namedCurve: 'SM2' }).publicKey.export({ type: 'spki', format: 'pem' });
  expect(local.sm2PemChangeToPubkey(pem)).toHaveLength(64);
  expect(() => local.sm2Sign(publicKey.subarray(1), privateKey, msg)).toThrow(expect.objectContaining({ code: 'InvalidParameter' }));
  expect(() => local.sm4CbcEncrypt(msg, Buffer.alloc(15), Buffer.alloc(16))).toThrow(expect.objectContaining({ code: 'InvalidParameter' }));
  expect(() => local.sm4CbcDecrypt(Buffer.alloc(16), KEY, Buffer.alloc(16))).toThrow(expect.objectContaining({ code: 'LocalDecryptError' }));
});

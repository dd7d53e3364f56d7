import * as crypto from 'node:crypto';
import { Client } from 'tencentcloud-sdk-nodejs/tencentcloud/services/kms/v20190118/kms_client';
import { Credential, KmsService } from './support/kms-service';
import {
  OpensslSm2Pair,
  RsaPair,
  Sm2Pair,
  opensslSm2Decrypt,
  opensslSm2Pair,
  rsaOaepDecrypt,
  rsaPair,
  rsaPkcs1Decrypt,
  sm2Asn1Decrypt,
  sm2Asn1Fields,
  sm2Pair,
  sm2RawDecrypt,
  sm2RawToAsn1,
  spkiPem,
} from './support/recipient-keys';
import { send, signTc3, signV1 } from './support/signer';
import { b64, codeOf, kmsClient } from './support/tencent-client';

/**
 * GenerateDataKey, and EncryptionPublicKey/EncryptionAlgorithm on Decrypt and
 * GenerateDataKey, over HTTP with the official SDK: every happy path opened with the
 * caller's private key, and every error code these parameters can give.
 */

let kms: KmsService;
let cred: Credential;
let kms2: Credential;
let keyId: string;
let rsa: RsaPair;
let sm: Sm2Pair;
let osm: OpensslSm2Pair;
const secret = Buffer.from('the data this test encrypts');
let secretBlob: string;

beforeAll(async () => {
  // The documented per-account rates (GenerateDataKey: 100/s) would throttle this file's bursts.
  kms = await KmsService.start({ env: { KMS_RATE_LIMITS: 'off' } });
  cred = await kms.createAccount('data-keys');
  kms2 = await kms.createAccount('data-keys-other');
  keyId = (await client().CreateKey({ Alias: 'data-keys' })).KeyId!;
  secretBlob = (await client().Encrypt({ KeyId: keyId, Plaintext: b64(secret) })).CiphertextBlob!;
  rsa = rsaPair();
  sm = sm2Pair();
  osm = opensslSm2Pair();
});
afterAll(() => kms.stop());

const client = (): Client => kmsClient(kms.endpoint, cred);
const plain = async (blob: string, context?: string): Promise<Buffer> => Buffer.from((await client().Decrypt({ CiphertextBlob: blob, EncryptionContext: context })).Plaintext!, 'base64');

describe('GenerateDataKey', () => {
  it.each([
    ['KeySpec AES_256', { KeySpec: 'AES_256' }, 32],
    ['KeySpec AES_128', { KeySpec: 'AES_128' }, 16],
    ['NumberOfBytes 1', { NumberOfBytes: 1 }, 1],
    ['NumberOfBytes 48', { NumberOfBytes: 48 }, 48],
    ['NumberOfBytes 1024', { NumberOfBytes: 1024 }, 1024],
    ['both, NumberOfBytes winning', { KeySpec: 'AES_128', NumberOfBytes: 24 }, 24],
  ])('%s: a data key of the right length whose CiphertextBlob Decrypt opens', async (_n, spec, bytes) => {
    const r = await client().GenerateDataKey({ KeyId: keyId, ...spec });
    expect(r.KeyId).toBe(keyId);
    expect(r.RequestId).toMatch(/^[0-9a-f-]{36}$/);
    const dataKey = Buffer.from(r.Plaintext!, 'base64');
    expect(dataKey).toHaveLength(bytes);
    // The same blob as Encrypt's: "KM", format 1, 51 bytes of overhead.
    const blob = Buffer.from(r.CiphertextBlob!, 'base64');
    expect(blob.subarray(0, 3).toString('hex')).toBe('4b4d01');
    expect(blob).toHaveLength(51 + bytes);
    const d = await client().Decrypt({ CiphertextBlob: r.CiphertextBlob! });
    expect(d.KeyId).toBe(keyId);
    expect(Buffer.from(d.Plaintext!, 'base64')).toEqual(dataKey);
  });

  it('draws a new key each time', async () => {
    const a = await client().GenerateDataKey({ KeyId: keyId, KeySpec: 'AES_256' });
    const b = await client().GenerateDataKey({ KeyId: keyId, KeySpec: 'AES_256' });
    expect(a.Plaintext).not.toBe(b.Plaintext);
    expect(a.CiphertextBlob).not.toBe(b.CiphertextBlob);
  });

  it('binds the EncryptionContext: Decrypt needs the same context (key order and spacing aside)', async () => {
    const r = await client().GenerateDataKey({ KeyId: keyId, KeySpec: 'AES_256', EncryptionContext: '{"table":"orders","db":"prod"}' });
    expect(await plain(r.CiphertextBlob!, ' { "db" : "prod", "table" : "orders" } ')).toEqual(Buffer.from(r.Plaintext!, 'base64'));
    expect(await codeOf(client().Decrypt({ CiphertextBlob: r.CiphertextBlob! }))).toBe('InvalidParameterValue.InvalidCiphertext');
    expect(await codeOf(client().Decrypt({ CiphertextBlob: r.CiphertextBlob!, EncryptionContext: '{"table":"users","db":"prod"}' }))).toBe('InvalidParameterValue.InvalidCiphertext');
  });

  it('works with v1 signatures over GET (NumberOfBytes as a digit string, a PEM in the query)', async () => {
    const r = await send(
      signV1(kms.endpoint, cred, {
        method: 'GET',
        signatureMethod: 'HmacSHA256',
        params: { Action: 'GenerateDataKey', KeyId: keyId, NumberOfBytes: 20, EncryptionPublicKey: rsa.publicPem, EncryptionAlgorithm: 'RSAES_OAEP_SHA_256' },
      }),
    );
    expect(r.code).toBeUndefined();
    const resp = r.body as { Plaintext: string; CiphertextBlob: string };
    expect(rsaOaepDecrypt(rsa, 'sha256', Buffer.from(resp.Plaintext, 'base64'))).toEqual(await plain(resp.CiphertextBlob));
  });
});

describe('EncryptionPublicKey: the Plaintext answered is encrypted to the caller', () => {
  type Opener = (data: Buffer) => Buffer;
  const cases: [string, () => string, string | undefined, () => Opener][] = [
    ['RSAES_PKCS1_V1_5', () => rsa.publicPem, 'RSAES_PKCS1_V1_5', () => (d) => rsaPkcs1Decrypt(rsa, d)],
    ['RSAES_OAEP_SHA_1', () => rsa.publicPem, 'RSAES_OAEP_SHA_1', () => (d) => rsaOaepDecrypt(rsa, 'sha1', d)],
    ['RSAES_OAEP_SHA_256', () => rsa.publicPem, 'RSAES_OAEP_SHA_256', () => (d) => rsaOaepDecrypt(rsa, 'sha256', d)],
    ['SM2 (raw C1C3C2)', () => sm.publicPem, 'SM2', () => (d) => sm2RawDecrypt(sm, d)],
    ['SM2 by default (absent)', () => sm.publicPem, undefined, () => (d) => sm2RawDecrypt(sm, d)],
    ['SM2 by default (empty)', () => sm.publicPem, '', () => (d) => sm2RawDecrypt(sm, d)],
    ['SM2_C1C3C2_ASN1', () => sm.publicPem, 'SM2_C1C3C2_ASN1', () => (d) => sm2Asn1Decrypt(sm, d)],
    ['SM2 with the SM2 OID as SPKI algorithm', () => sm.publicPemSm2Oid, 'SM2', () => (d) => sm2RawDecrypt(sm, d)],
    ['SM2 raw, opened by OpenSSL after re-encoding', () => osm.publicPem, 'SM2', () => (d) => opensslSm2Decrypt(osm, sm2RawToAsn1(d))],
    ['SM2_C1C3C2_ASN1, opened by OpenSSL', () => osm.publicPem, 'SM2_C1C3C2_ASN1', () => (d) => opensslSm2Decrypt(osm, d)],
    ['the seed example layout (PEM on one line, spaces)', () => rsa.publicPem.replace(/\n/g, ' '), 'RSAES_OAEP_SHA_256', () => (d) => rsaOaepDecrypt(rsa, 'sha256', d)],
  ];

  it.each(cases)('Decrypt, %s', async (_n, pem, alg, opener) => {
    const r = await client().Decrypt({ CiphertextBlob: secretBlob, EncryptionPublicKey: pem(), EncryptionAlgorithm: alg });
    expect(r.KeyId).toBe(keyId);
    const sealed = Buffer.from(r.Plaintext!, 'base64');
    expect(sealed.equals(secret)).toBe(false);
    expect(opener()(sealed)).toEqual(secret);
  });

  it.each(cases)('GenerateDataKey, %s', async (_n, pem, alg, opener) => {
    const r = await client().GenerateDataKey({ KeyId: keyId, KeySpec: 'AES_256', EncryptionPublicKey: pem(), EncryptionAlgorithm: alg });
    const dataKey = opener()(Buffer.from(r.Plaintext!, 'base64'));
    expect(dataKey).toHaveLength(32);
    expect(await plain(r.CiphertextBlob!)).toEqual(dataKey);
  });

  it('SM2 raw form is 04 || x || y || C3 (32) || C2, and the ASN.1 form is SEQUENCE {x, y, C3, C2}', async () => {
    const raw = Buffer.from((await client().Decrypt({ CiphertextBlob: secretBlob, EncryptionPublicKey: sm.publicPem, EncryptionAlgorithm: 'SM2' })).Plaintext!, 'base64');
    expect(raw[0]).toBe(0x04);
    expect(raw).toHaveLength(1 + 64 + 32 + secret.length);
    const asn1 = Buffer.from((await client().Decrypt({ CiphertextBlob: secretBlob, EncryptionPublicKey: sm.publicPem, EncryptionAlgorithm: 'SM2_C1C3C2_ASN1' })).Plaintext!, 'base64');
    const f = sm2Asn1Fields(asn1);
    expect(f.c3).toHaveLength(32);
    expect(f.c2).toHaveLength(secret.length);
  });

  it('takes up to the most each RSA padding can carry (245, 214, 190 bytes)', async () => {
    for (const [alg, max] of [['RSAES_PKCS1_V1_5', 245], ['RSAES_OAEP_SHA_1', 214], ['RSAES_OAEP_SHA_256', 190]] as const) {
      const r = await client().GenerateDataKey({ KeyId: keyId, NumberOfBytes: max, EncryptionPublicKey: rsa.publicPem, EncryptionAlgorithm: alg });
      expect(Buffer.from(r.Plaintext!, 'base64')).toHaveLength(256);
      expect(await codeOf(client().GenerateDataKey({ KeyId: keyId, NumberOfBytes: max + 1, EncryptionPublicKey: rsa.publicPem, EncryptionAlgorithm: alg }))).toBe('InvalidParameter');
    }
  });

  it('takes an EncryptionAlgorithm without a key, and then answers the plain Plaintext', async () => {
    expect(await plain(secretBlob)).toEqual(secret);
    const r = await client().Decrypt({ CiphertextBlob: secretBlob, EncryptionAlgorithm: 'RSAES_OAEP_SHA_1' });
    expect(Buffer.from(r.Plaintext!, 'base64')).toEqual(secret);
  });
});

describe('errors of GenerateDataKey', () => {
  it('MissingParameter without KeyId', async () => {
    expect(await codeOf(client().GenerateDataKey({ KeySpec: 'AES_256' } as never))).toBe('MissingParameter');
  });
  it.each([
    ['neither KeySpec nor NumberOfBytes', {}],
    ['an empty KeySpec only', { KeySpec: '' }],
    ['an unknown KeySpec', { KeySpec: 'AES_512' }],
    ['a KeySpec in the wrong case', { KeySpec: 'aes_256' }],
    ['an unknown KeySpec, even with NumberOfBytes', { KeySpec: 'SM4', NumberOfBytes: 16 }],
    ['NumberOfBytes 0', { NumberOfBytes: 0 }],
    ['NumberOfBytes 1025', { NumberOfBytes: 1025 }],
    ['NumberOfBytes negative', { NumberOfBytes: -1 }],
    ['NumberOfBytes not an integer', { NumberOfBytes: 1.5 }],
    ['EncryptionContext not JSON', { KeySpec: 'AES_256', EncryptionContext: 'table=orders' }],
  ])('InvalidParameter for %s', async (_n, spec) => {
    expect(await codeOf(client().GenerateDataKey({ KeyId: keyId, ...spec }))).toBe('InvalidParameter');
  });
  it('InvalidParameter for NumberOfBytes or KeySpec of the wrong JSON type', async () => {
    for (const body of [{ KeyId: keyId, NumberOfBytes: '32' }, { KeyId: keyId, KeySpec: 256 }]) {
      expect((await send(signTc3(kms.endpoint, cred, { action: 'GenerateDataKey', body: JSON.stringify(body) }))).code).toBe('InvalidParameter');
    }
  });
  it('InvalidParameterValue.InvalidKeyId for a KeyId that is no UUID', async () => {
    expect(await codeOf(client().GenerateDataKey({ KeyId: 'orders', KeySpec: 'AES_256' }))).toBe('InvalidParameterValue.InvalidKeyId');
  });
  it("ResourceUnavailable.CmkNotFound for an unknown key and for another account's key", async () => {
    expect(await codeOf(client().GenerateDataKey({ KeyId: crypto.randomUUID(), KeySpec: 'AES_256' }))).toBe('ResourceUnavailable.CmkNotFound');
    expect(await codeOf(kmsClient(kms.endpoint, kms2).GenerateDataKey({ KeyId: keyId, KeySpec: 'AES_256' }))).toBe('ResourceUnavailable.CmkNotFound');
    expect(await codeOf(kmsClient(kms.endpoint, cred, { region: 'ap-shanghai' }).GenerateDataKey({ KeyId: keyId, KeySpec: 'AES_256' }))).toBe('ResourceUnavailable.CmkNotFound');
  });
  it('ResourceUnavailable.CmkDisabled for a disabled key; data keys made before still open after re-enabling', async () => {
    const id = (await client().CreateKey({ Alias: 'data-keys-disabled' })).KeyId!;
    const before = await client().GenerateDataKey({ KeyId: id, KeySpec: 'AES_128' });
    await client().DisableKey({ KeyId: id });
    expect(await codeOf(client().GenerateDataKey({ KeyId: id, KeySpec: 'AES_256' }))).toBe('ResourceUnavailable.CmkDisabled');
    await client().EnableKey({ KeyId: id });
    expect(await plain(before.CiphertextBlob!)).toEqual(Buffer.from(before.Plaintext!, 'base64'));
  });
  it('ResourceUnavailable.CmkStateNotSupport for a key still waiting for imported material', async () => {
    const id = (await client().CreateKey({ Alias: 'data-keys-external', Type: 2 })).KeyId!;
    expect(await codeOf(client().GenerateDataKey({ KeyId: id, KeySpec: 'AES_256' }))).toBe('ResourceUnavailable.CmkStateNotSupport');
  });
  it('UnknownParameter for a parameter GenerateDataKey does not take', async () => {
    const body = { KeyId: keyId, KeySpec: 'AES_256', GrantTokens: ['t'] };
    expect((await send(signTc3(kms.endpoint, cred, { action: 'GenerateDataKey', body: JSON.stringify(body) }))).code).toBe('UnknownParameter');
  });
});

describe('errors of EncryptionPublicKey and EncryptionAlgorithm (Decrypt and GenerateDataKey)', () => {
  const pemOf = (der: Buffer) => spkiPem(der);
  const ecP256 = () => crypto.generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).publicKey.export({ type: 'spki', format: 'pem' }) as string;
  const ed25519 = () => crypto.generateKeyPairSync('ed25519').publicKey.export({ type: 'spki', format: 'pem' }) as string;
  const offCurve = () => {
    const p = Buffer.from(sm.point, 'hex');
    p[64] ^= 1;
    return pemOf(Buffer.concat([Buffer.from('3059301306072a8648ce3d020106082a811ccf5501822d034200', 'hex'), p]));
  };
  const cases: [string, () => string | undefined, string | undefined][] = [
    ['an unknown EncryptionAlgorithm', () => sm.publicPem, 'SM4'],
    ['an unknown EncryptionAlgorithm without a key', () => undefined, 'RSA_OAEP'],
    ['an EncryptionAlgorithm in the wrong case', () => rsa.publicPem, 'rsaes_oaep_sha_256'],
    ['text that is no PEM', () => 'hello', 'SM2'],
    ['a PEM with invalid base64', () => '-----BEGIN PUBLIC KEY-----\nMFkw*EwYH\n-----END PUBLIC KEY-----', 'SM2'],
    ['a PEM with an empty body', () => '-----BEGIN PUBLIC KEY-----\n-----END PUBLIC KEY-----', 'SM2'],
    ['a PEM whose DER is not a SubjectPublicKeyInfo', () => pemOf(Buffer.from('3003020101', 'hex')), 'SM2'],
    ['a PEM whose DER is cut short', () => pemOf(Buffer.from(rsa.publicPem.replace(/-----[^-]+-----|\s/g, ''), 'base64').subarray(0, 100)), 'RSAES_OAEP_SHA_1'],
    ['a PEM with trailing bytes after the DER', () => pemOf(Buffer.concat([Buffer.from(rsa.publicPem.replace(/-----[^-]+-----|\s/g, ''), 'base64'), Buffer.from([0])])), 'RSAES_OAEP_SHA_1'],
    ['a PKCS#1 RSA PUBLIC KEY PEM', () => crypto.createPublicKey(rsa.privateKey).export({ type: 'pkcs1', format: 'pem' }) as string, 'RSAES_OAEP_SHA_1'],
    ['a private key PEM', () => rsa.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string, 'RSAES_OAEP_SHA_1'],
    ['a PEM longer than 4096 characters', () => rsa.publicPem + ' '.repeat(4096), 'RSAES_OAEP_SHA_1'],
    ['an RSA key with SM2 (the default)', () => rsa.publicPem, undefined],
    ['an RSA key with SM2_C1C3C2_ASN1', () => rsa.publicPem, 'SM2_C1C3C2_ASN1'],
    ['an SM2 key with an RSA algorithm', () => sm.publicPem, 'RSAES_PKCS1_V1_5'],
    ['a P-256 EC key with SM2', () => ecP256(), 'SM2'],
    ['an Ed25519 key with SM2', () => ed25519(), 'SM2'],
    ['an Ed25519 key with an RSA algorithm', () => ed25519(), 'RSAES_OAEP_SHA_256'],
    ['an RSA-1024 key', () => rsaPair(1024).publicPem, 'RSAES_OAEP_SHA_1'],
    ['an RSA-3072 key', () => rsaPair(3072).publicPem, 'RSAES_OAEP_SHA_256'],
    ['an SM2 point that is not on the curve', offCurve, 'SM2'],
  ];

  it.each(cases)('InvalidParameter on Decrypt for %s', async (_n, pem, alg) => {
    expect(await codeOf(client().Decrypt({ CiphertextBlob: secretBlob, EncryptionPublicKey: pem(), EncryptionAlgorithm: alg }))).toBe('InvalidParameter');
  });
  it.each(cases)('InvalidParameter on GenerateDataKey for %s', async (_n, pem, alg) => {
    expect(await codeOf(client().GenerateDataKey({ KeyId: keyId, KeySpec: 'AES_128', EncryptionPublicKey: pem(), EncryptionAlgorithm: alg }))).toBe('InvalidParameter');
  });

  it('checks the key before the CMK: a bad key with an unknown KeyId is InvalidParameter', async () => {
    expect(await codeOf(client().GenerateDataKey({ KeyId: crypto.randomUUID(), KeySpec: 'AES_128', EncryptionPublicKey: 'hello' }))).toBe('InvalidParameter');
  });
  it('InvalidParameter on Decrypt when the plaintext is longer than the RSA padding can carry', async () => {
    const big = (await client().Encrypt({ KeyId: keyId, Plaintext: b64(Buffer.alloc(246, 7)) })).CiphertextBlob!;
    expect(await codeOf(client().Decrypt({ CiphertextBlob: big, EncryptionPublicKey: rsa.publicPem, EncryptionAlgorithm: 'RSAES_PKCS1_V1_5' }))).toBe('InvalidParameter');
    // SM2 has no such limit.
    const r = await client().Decrypt({ CiphertextBlob: big, EncryptionPublicKey: sm.publicPem });
    expect(sm2RawDecrypt(sm, Buffer.from(r.Plaintext!, 'base64'))).toEqual(Buffer.alloc(246, 7));
  });
  it('a disabled key is still ResourceUnavailable.CmkDisabled on Decrypt with a public key', async () => {
    const id = (await client().CreateKey({ Alias: 'data-keys-decrypt-disabled' })).KeyId!;
    const blob = (await client().Encrypt({ KeyId: id, Plaintext: b64('x') })).CiphertextBlob!;
    await client().DisableKey({ KeyId: id });
    expect(await codeOf(client().Decrypt({ CiphertextBlob: blob, EncryptionPublicKey: sm.publicPem }))).toBe('ResourceUnavailable.CmkDisabled');
  });
});

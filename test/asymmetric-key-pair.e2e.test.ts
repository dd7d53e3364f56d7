import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { sm2 } from 'sm-crypto-v2';
import { auditList, sql, waitForRecords } from './support/audit-db';
import { loseMaterial } from './support/key-storage';
import { Credential, KmsService } from './support/kms-service';
import { opensslSm2Decrypt, opensslSm2Pair, rsaPair, rsaPkcs1Decrypt, sm2Pair, sm2RawDecrypt } from './support/recipient-keys';
import { send, signTc3 } from './support/signer';
import { codeOf, kmsClient } from './support/tencent-client';
import { expectLimitedBurst } from './support/rate-burst';

/**
 * GenerateAsymmetricKeyPair (KeySpec SM2): a pair the service does not keep, checked against
 * OpenSSL and sm-crypto-v2 as implementations independent of the service's; the private key
 * answered as PEM or encrypted to the caller's key, and sealed under the CMK for Decrypt; the
 * documented error codes, the rate limit of the seed's table, and the audit trail.
 * The installed SDK has no method for this action: the SDK's generic `request` signs and sends it.
 */

let kms: KmsService;
let root: Credential;
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kms-key-pair-'));
const UNKNOWN = '00000000-0000-4000-8000-000000000000';
/** The GM/T 0009 default user ID, which OpenSSL 3.0 does not use unless told. */
const DISTID = 'distid:1234567812345678';

interface PairAnswer {
  KeyId: string;
  PrivateKeyPlaintext: string;
  PublicKeyPlaintext: string;
  PrivateKeyCiphertextBlob: string;
  RequestId: string;
}

beforeAll(async () => {
  // The seed's default rate limits (no KMS_RATE_LIMITS).
  kms = await KmsService.start();
  root = await kms.createAccount('key-pairs');
});
afterAll(async () => {
  await kms.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

const c = (cred: Credential = root) => kmsClient(kms.endpoint, cred);
const generate = (body: Record<string, unknown>, cred: Credential = root) => c(cred).request('GenerateAsymmetricKeyPair', body) as Promise<PairAnswer>;
/** The answer over HTTP, its code 'OK' when it has none. */
const raw = async (body: Record<string, unknown>, cred: Credential = root) => {
  const r = await send(signTc3(kms.endpoint, cred, { action: 'GenerateAsymmetricKeyPair', body: JSON.stringify(body) }));
  return { ...r, code: r.code ?? 'OK' };
};
const newKey = async (Alias: string) => (await c().CreateKey({ Alias })).KeyId!;
let files = 0;
const file = (content: string | Buffer) => {
  const f = path.join(dir, `f${files++}`);
  fs.writeFileSync(f, content, { mode: 0o600 });
  return f;
};
const openssl = (...args: string[]) => execFileSync('openssl', args, { stdio: ['ignore', 'pipe', 'pipe'] });
const pointOf = (publicPem: string) => {
  const der = Buffer.from(publicPem.replace(/-----[^-]+-----|\s/g, ''), 'base64');
  return der.subarray(der.length - 65).toString('hex');
};

describe('a key pair', () => {
  let keyId: string;
  let r: PairAnswer;
  beforeAll(async () => {
    keyId = await newKey('pair-sealer');
    r = await generate({ KeyId: keyId, KeySpec: 'SM2' });
  });

  it('is an SM2 key OpenSSL reads, whose public half is the public key answered', () => {
    expect(r.KeyId).toBe(keyId);
    expect(r.PrivateKeyPlaintext).toMatch(/^-----BEGIN PRIVATE KEY-----\n[A-Za-z0-9+/=\n]+\n-----END PRIVATE KEY-----\n$/);
    expect(r.PublicKeyPlaintext).toMatch(/^-----BEGIN PUBLIC KEY-----\n[A-Za-z0-9+/=\n]+\n-----END PUBLIC KEY-----\n$/);
    const priv = file(r.PrivateKeyPlaintext);
    // `-check` verifies that the scalar is in range and the point is d*G on the curve.
    expect(openssl('pkey', '-in', priv, '-check', '-noout').toString()).toMatch(/Key is valid/);
    expect(openssl('pkey', '-in', priv, '-text', '-noout').toString()).toMatch(/ASN1 OID: SM2/);
    expect(openssl('pkey', '-in', priv, '-pubout').toString()).toBe(r.PublicKeyPlaintext);
  });

  it('signs with OpenSSL, and the signature verifies with the public key answered, in OpenSSL and in sm-crypto-v2', () => {
    const message = 'a message signed outside the service';
    const sig = openssl('dgst', '-sm3', '-sign', file(r.PrivateKeyPlaintext), '-sigopt', DISTID, file(message));
    const sigFile = file(sig);
    expect(openssl('dgst', '-sm3', '-verify', file(r.PublicKeyPlaintext), '-sigopt', DISTID, '-signature', sigFile, file(message)).toString()).toMatch(/Verified OK/);
    const verify = (m: string) => sm2.doVerifySignature(new TextEncoder().encode(m), sig.toString('hex'), pointOf(r.PublicKeyPlaintext), { der: true, hash: true });
    expect(verify(message)).toBe(true);
    expect(verify(message + '.')).toBe(false);
  });

  it('decrypts with OpenSSL what sm-crypto-v2 encrypted to the public key answered', () => {
    const c1c3c2Asn1 = sm2.doEncrypt(new TextEncoder().encode('to the new key'), pointOf(r.PublicKeyPlaintext), 1, { asn1: true });
    expect(openssl('pkeyutl', '-decrypt', '-inkey', file(r.PrivateKeyPlaintext), '-in', file(Buffer.from(c1c3c2Asn1, 'hex'))).toString()).toBe('to the new key');
  });

  it('is sealed under the CMK: Decrypt of PrivateKeyCiphertextBlob gives the private key PEM', async () => {
    const d = await c().Decrypt({ CiphertextBlob: r.PrivateKeyCiphertextBlob });
    expect(d.KeyId).toBe(keyId);
    expect(Buffer.from(d.Plaintext!, 'base64').toString('latin1')).toBe(r.PrivateKeyPlaintext);
    // Sealed without an encryption context, like Encrypt without one.
    expect(await codeOf(c().Decrypt({ CiphertextBlob: r.PrivateKeyCiphertextBlob, EncryptionContext: '{"a":"b"}' }))).toBe('InvalidParameterValue.InvalidCiphertext');
  });

  it('is new each time, and kept nowhere: the token holds no object for it', async () => {
    const objects = async () => (await kms.cli<Array<{ id: string }>>('token', 'audit')).map((o) => o.id).sort();
    const before = await objects();
    const again = await generate({ KeyId: keyId, KeySpec: 'SM2' });
    expect(again.PrivateKeyPlaintext).not.toBe(r.PrivateKeyPlaintext);
    expect(again.PublicKeyPlaintext).not.toBe(r.PublicKeyPlaintext);
    expect(await objects()).toEqual(before);
  });
});

describe('EncryptionPublicKey', () => {
  let keyId: string;
  beforeAll(async () => {
    keyId = await newKey('pair-recipient');
  });

  const checkPem = async (pem: string, blob: string) => {
    expect(openssl('pkey', '-in', file(pem), '-check', '-noout').toString()).toMatch(/Key is valid/);
    expect(Buffer.from((await c().Decrypt({ CiphertextBlob: blob })).Plaintext!, 'base64').toString('latin1')).toBe(pem);
  };

  it('encrypts the PEM to an SM2 key, C1C3C2 by default', async () => {
    const pair = sm2Pair();
    const r = await generate({ KeyId: keyId, KeySpec: 'SM2', EncryptionPublicKey: pair.publicPem });
    const pem = sm2RawDecrypt(pair, Buffer.from(r.PrivateKeyPlaintext, 'base64')).toString('latin1');
    await checkPem(pem, r.PrivateKeyCiphertextBlob);
    expect(openssl('pkey', '-in', file(pem), '-pubout').toString()).toBe(r.PublicKeyPlaintext);
  });

  it('encrypts the PEM in the ASN.1 form OpenSSL opens (SM2_C1C3C2_ASN1)', async () => {
    const pair = opensslSm2Pair();
    const r = await generate({ KeyId: keyId, KeySpec: 'SM2', EncryptionPublicKey: pair.publicPem, EncryptionAlgorithm: 'SM2_C1C3C2_ASN1' });
    await checkPem(opensslSm2Decrypt(pair, Buffer.from(r.PrivateKeyPlaintext, 'base64')).toString('latin1'), r.PrivateKeyCiphertextBlob);
  });

  it('encrypts the PEM to an RSA-2048 key with RSAES_PKCS1_V1_5', async () => {
    const pair = rsaPair();
    const r = await generate({ KeyId: keyId, KeySpec: 'SM2', EncryptionPublicKey: pair.publicPem, EncryptionAlgorithm: 'RSAES_PKCS1_V1_5' });
    await checkPem(rsaPkcs1Decrypt(pair, Buffer.from(r.PrivateKeyPlaintext, 'base64')).toString('latin1'), r.PrivateKeyCiphertextBlob);
  });

  it('answers InvalidParameter for RSA-OAEP, whose RSA-2048 block cannot hold the 241-byte PEM', async () => {
    const pair = rsaPair();
    for (const [alg, max] of [['RSAES_OAEP_SHA_1', 214], ['RSAES_OAEP_SHA_256', 190]] as const) {
      const r = await raw({ KeyId: keyId, KeySpec: 'SM2', EncryptionPublicKey: pair.publicPem, EncryptionAlgorithm: alg });
      expect(r.code).toBe('InvalidParameter');
      expect((r.body.Error as { Message: string }).Message).toBe(`${alg} with an RSA-2048 key encrypts at most ${max} bytes; the plaintext has 241`);
    }
  });

  it('answers InvalidParameter for a key or algorithm it cannot use', async () => {
    const sm2Key = sm2Pair().publicPem;
    for (const body of [
      { EncryptionPublicKey: 'not a pem' },
      { EncryptionPublicKey: sm2Key, EncryptionAlgorithm: 'RSAES_PKCS1_V1_5' },
      { EncryptionPublicKey: rsaPair().publicPem },
      { EncryptionPublicKey: sm2Key, EncryptionAlgorithm: 'SM4' },
    ]) {
      expect((await raw({ KeyId: keyId, KeySpec: 'SM2', ...body })).code).toBe('InvalidParameter');
    }
  });

  it('answers InvalidParameter for a well-formed SubjectPublicKeyInfo of RSA whose key is not one', async () => {
    // rsaEncryption with NULL parameters, and a BIT STRING holding SEQUENCE { INTEGER 5 }: no modulus.
    const der = Buffer.from('3017300d06092a864886f70d01010105000306003003020105', 'hex');
    const pem = `-----BEGIN PUBLIC KEY-----\n${der.toString('base64')}\n-----END PUBLIC KEY-----\n`;
    const r = await raw({ KeyId: keyId, KeySpec: 'SM2', EncryptionPublicKey: pem, EncryptionAlgorithm: 'RSAES_PKCS1_V1_5' });
    expect([r.code, (r.body.Error as { Message: string }).Message]).toEqual(['InvalidParameter', 'EncryptionPublicKey is not a valid RSA public key']);
  });
});

describe('documented errors', () => {
  it('InvalidParameter for a KeySpec other than SM2, and MissingParameter without one', async () => {
    const keyId = await newKey('pair-spec');
    for (const KeySpec of ['RSA_2048', 'sm2', 'SM2 ', 'toString', '__proto__', '']) {
      const r = await raw({ KeyId: keyId, KeySpec });
      expect([KeySpec, r.code]).toEqual([KeySpec, 'InvalidParameter']);
    }
    expect((await raw({ KeyId: keyId, KeySpec: 2 })).code).toBe('InvalidParameter');
    expect((await raw({ KeyId: keyId })).code).toBe('MissingParameter');
    expect((await raw({ KeyId: keyId, KeySpec: 'SM2', PrivateKey: 'x' })).code).toBe('UnknownParameter');
  });

  it('InvalidKeyId, CmkNotFound and CmkDisabled', async () => {
    expect((await raw({ KeyId: 'not-a-key-id', KeySpec: 'SM2' })).code).toBe('InvalidParameterValue.InvalidKeyId');
    expect((await raw({ KeyId: UNKNOWN, KeySpec: 'SM2' })).code).toBe('ResourceUnavailable.CmkNotFound');
    const keyId = await newKey('pair-disabled');
    await c().DisableKey({ KeyId: keyId });
    expect((await raw({ KeyId: keyId, KeySpec: 'SM2' })).code).toBe('ResourceUnavailable.CmkDisabled');
    await c().EnableKey({ KeyId: keyId });
    expect((await raw({ KeyId: keyId, KeySpec: 'SM2' })).code).toBe('OK');
  });

  it('CmkStateNotSupport for a key pending deletion, and InvalidParameter for a key pair', async () => {
    const keyId = await newKey('pair-pending');
    await c().DisableKey({ KeyId: keyId });
    await c().ScheduleKeyDeletion({ KeyId: keyId, PendingWindowInDays: 7 });
    expect((await raw({ KeyId: keyId, KeySpec: 'SM2' })).code).toBe('ResourceUnavailable.CmkStateNotSupport');
    const pair = (await c().CreateKey({ Alias: 'pair-not-symmetric', KeyUsage: 'ASYMMETRIC_SIGN_VERIFY_ECC' })).KeyId!;
    const r = await raw({ KeyId: pair, KeySpec: 'SM2' });
    expect(r.code).toBe('InvalidParameter');
    expect((r.body.Error as { Message: string }).Message).toMatch(/ASYMMETRIC_SIGN_VERIFY_ECC/);
  });

  it('UnauthorizedOperation for a sub-user whose policy does not allow the action on the key', async () => {
    const keyId = await newKey('pair-policy');
    const policy = (action: string) => {
      const f = file(JSON.stringify({ version: '2.0', statement: [{ effect: 'allow', action: [`name/kms:${action}`], resource: '*' }] }));
      return f;
    };
    const encryptOnly = await kms.cli<Credential>('user', 'create', '--account', root.Uin, '--name', 'pair-encrypt-only', '--policy', policy('Encrypt'));
    expect((await raw({ KeyId: keyId, KeySpec: 'SM2' }, encryptOnly)).code).toBe('UnauthorizedOperation');
    expect((await raw({ KeyId: UNKNOWN, KeySpec: 'SM2' }, encryptOnly)).code).toBe('UnauthorizedOperation');
    const allowed = await kms.cli<Credential>('user', 'create', '--account', root.Uin, '--name', 'pair-allowed', '--policy', policy('GenerateAsymmetricKeyPair'));
    expect((await raw({ KeyId: keyId, KeySpec: 'SM2' }, allowed)).code).toBe('OK');
    // Another account's key is not found, whatever its id.
    const other = await kms.createAccount('key-pairs-other');
    expect((await raw({ KeyId: keyId, KeySpec: 'SM2' }, other)).code).toBe('ResourceUnavailable.CmkNotFound');
  });

  it('InternalServerError, without detail, when the token lost the CMK (wrapped storage: its blob no longer unwraps)', async () => {
    const keyId = await newKey('pair-lost');
    await loseMaterial(kms, keyId);
    const r = await raw({ KeyId: keyId, KeySpec: 'SM2' });
    expect(r.code).toBe('InternalServerError');
    expect((r.body.Error as { Message: string }).Message).toBe(`internal error; quote RequestId ${r.body.RequestId}`);
  });

  it('RequestLimitExceeded beyond 100 a second to one account (the seed\'s table)', async () => {
    const limited = await kms.createAccount('key-pairs-limited');
    // Refused before the key is looked up, so an unknown key measures the limit without token work.
    await expectLimitedBurst(() => raw({ KeyId: UNKNOWN, KeySpec: 'SM2' }, limited).then((r) => r.code ?? 'OK'), 130, 100, 'ResourceUnavailable.CmkNotFound');
  });
});

it('is recorded in the audit trail with the CMK and its version, and no key material', async () => {
  const keyId = await newKey('pair-audited');
  const r = await generate({ KeyId: keyId, KeySpec: 'SM2' });
  const refused = await raw({ KeyId: keyId, KeySpec: 'RSA_2048' });
  const lines = await waitForRecords(kms.env, (l) => l.some((x) => x.requestId === refused.body.RequestId));
  expect(lines.find((l) => l.requestId === r.RequestId)).toMatchObject({ face: 'tencent', action: 'GenerateAsymmetricKeyPair', account: root.Uin, secretId: root.SecretId, keys: [{ keyId, version: 1 }], result: 'Success' });
  expect(lines.find((l) => l.requestId === refused.body.RequestId)).toMatchObject({ action: 'GenerateAsymmetricKeyPair', result: 'InvalidParameter' });
  expect((await auditList(kms.env, '--action', 'GenerateAsymmetricKeyPair', '--key', keyId)).map((l) => l.requestId)).toContain(r.RequestId);
  const body = (pem: string) => pem.replace(/-----[^-]+-----|\s/g, '');
  const dump = JSON.stringify(await sql(kms.env, 'SELECT * FROM audit_records'));
  for (const secret of [body(r.PrivateKeyPlaintext), r.PrivateKeyCiphertextBlob]) expect(dump).not.toContain(secret.slice(0, 40));
  expect(kms.logs).not.toContain(body(r.PrivateKeyPlaintext).slice(0, 40));
});

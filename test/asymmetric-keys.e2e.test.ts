import { execFileSync } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { HuaweiClient, codeOf as huaweiCodeOf } from './support/huawei-client';
import { storedLabels, WRAPPED } from './support/key-storage';
import { Credential, KmsService } from './support/kms-service';
import { b64, codeOf, kmsClient } from './support/tencent-client';
import { expectLimitedBurst } from './support/rate-burst';

/**
 * Asymmetric CMKs through the Action API on SoftHSM: key pairs made in the token, public keys,
 * signatures checked by the `openssl` command line and Node's crypto, RSA decryption of what
 * OpenSSL encrypted, usage enforcement in the API and in the token's attributes, the
 * documented error codes, isolation, and the REST face's view of such keys.
 */
let kms: KmsService;
let cred: Credential;
let other: Credential;
let dir: string;

beforeAll(async () => {
  kms = await KmsService.start();
  cred = await kms.createAccount('asym');
  other = await kms.createAccount('asym-other');
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kms-asym-'));
});
afterAll(async () => {
  await kms.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

const openssl = (...args: string[]): string => execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] }).toString();
const write = (name: string, data: string | Buffer): string => {
  fs.writeFileSync(path.join(dir, name), data);
  return name;
};
const sha256 = (data: Buffer): Buffer => crypto.createHash('sha256').update(data).digest();

async function createKey(usage: string, alias = `${usage.toLowerCase()}-${crypto.randomUUID().slice(0, 8)}`, c = kmsClient(kms.endpoint, cred)): Promise<string> {
  const k = await c.CreateKey({ Alias: alias.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 60), KeyUsage: usage });
  expect(k).toMatchObject({ KeyUsage: usage, KeyState: 'Enabled' });
  return k.KeyId!;
}

async function publicKeyOf(keyId: string): Promise<{ key: crypto.KeyObject; pemFile: string }> {
  const r = await kmsClient(kms.endpoint, cred).GetPublicKey({ KeyId: keyId });
  expect(r.KeyId).toBe(keyId);
  const der = Buffer.from(r.PublicKey!, 'base64');
  const key = crypto.createPublicKey({ key: der, format: 'der', type: 'spki' });
  // The PEM is the same key as the DER, and OpenSSL reads it.
  expect(crypto.createPublicKey(r.PublicKeyPem!).export({ format: 'der', type: 'spki' })).toEqual(der);
  const pemFile = write(`${keyId}.pem`, r.PublicKeyPem!);
  expect(openssl('pkey', '-pubin', '-in', pemFile, '-noout', '-text')).toMatch(/Public-Key/);
  return { key, pemFile };
}

describe('ListAlgorithms', () => {
  it('lists the asymmetric algorithms the token performs, and no SM2', async () => {
    const r = await kmsClient(kms.endpoint, cred).ListAlgorithms();
    expect(r.AsymmetricAlgorithms).toEqual([{ KeyUsage: 'ASYMMETRIC_DECRYPT_RSA_2048', Algorithm: 'RSA_2048' }]);
    expect(r.AsymmetricSignVerifyAlgorithms).toEqual([
      { KeyUsage: 'ASYMMETRIC_SIGN_VERIFY_RSA_2048', Algorithm: 'RSA_2048' },
      { KeyUsage: 'ASYMMETRIC_SIGN_VERIFY_ECC', Algorithm: 'ECC_P256' },
    ]);
  });
});

describe('signing', () => {
  const cases: Array<[string, string, string[], crypto.VerifyKeyObjectInput['padding']]> = [
    ['ASYMMETRIC_SIGN_VERIFY_RSA_2048', 'RSA_PSS_SHA_256', ['-sigopt', 'rsa_padding_mode:pss', '-sigopt', 'rsa_pss_saltlen:32'], crypto.constants.RSA_PKCS1_PSS_PADDING],
    ['ASYMMETRIC_SIGN_VERIFY_RSA_2048', 'RSA_PKCS1_SHA_256', [], crypto.constants.RSA_PKCS1_PADDING],
    ['ASYMMETRIC_SIGN_VERIFY_ECC', 'ECC_P256_R1', [], undefined],
  ];

  it.each(cases)('%s signs with %s, RAW and DIGEST, as OpenSSL and Node verify', async (usage, algorithm, sigopts, padding) => {
    const c = kmsClient(kms.endpoint, cred);
    const keyId = await createKey(usage);
    const { key, pemFile } = await publicKeyOf(keyId);
    const message = crypto.randomBytes(4096);
    const msgFile = write(`${keyId}.msg`, message);
    for (const type of ['RAW', 'DIGEST', undefined]) {
      const input = type === 'DIGEST' ? sha256(message) : message;
      const signature = Buffer.from((await c.SignByAsymmetricKey({ KeyId: keyId, Algorithm: algorithm, Message: b64(input), MessageType: type })).Signature!, 'base64');
      const sigFile = write(`${keyId}.sig`, signature);
      expect(openssl('dgst', '-sha256', '-verify', pemFile, ...sigopts, '-signature', sigFile, msgFile)).toMatch(/Verified OK/);
      expect(crypto.verify('sha256', message, padding === undefined ? key : { key, padding }, signature)).toBe(true);
      expect((await c.VerifyByAsymmetricKey({ KeyId: keyId, Algorithm: algorithm, Message: b64(input), MessageType: type, SignatureValue: b64(signature) })).SignatureValid).toBe(true);
      // Another message, or a changed signature, does not verify.
      const changed = Buffer.from(signature);
      changed[changed.length - 5] ^= 1;
      expect((await c.VerifyByAsymmetricKey({ KeyId: keyId, Algorithm: algorithm, Message: b64(input), MessageType: type, SignatureValue: b64(changed) })).SignatureValid).toBe(false);
      const otherInput = type === 'DIGEST' ? sha256(Buffer.from('other')) : Buffer.from('other');
      expect((await c.VerifyByAsymmetricKey({ KeyId: keyId, Algorithm: algorithm, Message: b64(otherInput), MessageType: type, SignatureValue: b64(signature) })).SignatureValid).toBe(false);
    }
    // Garbage and empty signatures verify false rather than fail.
    for (const sig of [Buffer.from('nonsense'), Buffer.alloc(256, 0xff), ...Array.from({ length: 10 }, () => crypto.randomBytes(256)), crypto.randomBytes(72)]) {
      expect((await c.VerifyByAsymmetricKey({ KeyId: keyId, Algorithm: algorithm, Message: b64('m'), SignatureValue: b64(sig) })).SignatureValid).toBe(false);
    }
  });
});

describe('RSA decryption', () => {
  it('decrypts what OpenSSL encrypted with the public key, with every padding the token supports', async () => {
    const c = kmsClient(kms.endpoint, cred);
    const keyId = await createKey('ASYMMETRIC_DECRYPT_RSA_2048');
    const { pemFile } = await publicKeyOf(keyId);
    const secret = crypto.randomBytes(190);
    const secretFile = write('secret.bin', secret);
    const paddings: Array<[string, string[]]> = [
      ['RSAES_PKCS1_V1_5', ['-pkeyopt', 'rsa_padding_mode:pkcs1']],
      ['RSAES_OAEP_SHA_1', ['-pkeyopt', 'rsa_padding_mode:oaep', '-pkeyopt', 'rsa_oaep_md:sha1']],
    ];
    for (const [algorithm, opts] of paddings) {
      openssl('pkeyutl', '-encrypt', '-pubin', '-inkey', pemFile, ...opts, '-in', secretFile, '-out', 'ct.bin');
      const ct = fs.readFileSync(path.join(dir, 'ct.bin'));
      const r = await c.AsymmetricRsaDecrypt({ KeyId: keyId, Algorithm: algorithm, Ciphertext: b64(ct) });
      expect(r.KeyId).toBe(keyId);
      expect(Buffer.from(r.Plaintext!, 'base64')).toEqual(secret);
    }
    // SoftHSM 2.6 refuses OAEP with SHA-256: the service measured it and says so.
    openssl('pkeyutl', '-encrypt', '-pubin', '-inkey', pemFile, '-pkeyopt', 'rsa_padding_mode:oaep', '-pkeyopt', 'rsa_oaep_md:sha256', '-pkeyopt', 'rsa_mgf1_md:sha256', '-in', secretFile, '-out', 'ct256.bin');
    const ct256 = fs.readFileSync(path.join(dir, 'ct256.bin'));
    expect(await codeOf(c.AsymmetricRsaDecrypt({ KeyId: keyId, Algorithm: 'RSAES_OAEP_SHA_256', Ciphertext: b64(ct256) }))).toBe('InvalidParameter');
    // A ciphertext that does not decrypt, or is not one modulus long.
    for (const bad of [crypto.randomBytes(256), crypto.randomBytes(100), Buffer.alloc(0)]) {
      expect(await codeOf(c.AsymmetricRsaDecrypt({ KeyId: keyId, Algorithm: 'RSAES_PKCS1_V1_5', Ciphertext: b64(bad) }))).toBe('FailedOperation.DecryptError');
    }
    expect(await codeOf(c.AsymmetricRsaDecrypt({ KeyId: keyId, Algorithm: 'RSAES_OAEP_SHA_1', Ciphertext: b64(crypto.randomBytes(256)) }))).toBe('FailedOperation.DecryptError');
  });
});

describe('usage enforcement', () => {
  it('lets each key do only its usage, in the API and in the token', async () => {
    const c = kmsClient(kms.endpoint, cred);
    const dec = await createKey('ASYMMETRIC_DECRYPT_RSA_2048');
    const rsaSign = await createKey('ASYMMETRIC_SIGN_VERIFY_RSA_2048');
    const ecc = await createKey('ASYMMETRIC_SIGN_VERIFY_ECC');
    const aes = await createKey('ENCRYPT_DECRYPT');
    // A decryption key cannot sign or verify; a signing key cannot decrypt.
    expect(await codeOf(c.SignByAsymmetricKey({ KeyId: dec, Algorithm: 'RSA_PKCS1_SHA_256', Message: b64('m') }))).toBe('InvalidParameter');
    expect(await codeOf(c.VerifyByAsymmetricKey({ KeyId: dec, Algorithm: 'RSA_PKCS1_SHA_256', Message: b64('m'), SignatureValue: b64(crypto.randomBytes(256)) }))).toBe('InvalidParameter');
    for (const k of [rsaSign, ecc, aes]) {
      expect(await codeOf(c.AsymmetricRsaDecrypt({ KeyId: k, Algorithm: 'RSAES_PKCS1_V1_5', Ciphertext: b64(crypto.randomBytes(256)) }))).toBe('InvalidParameterValue.InvalidKeyUsage');
    }
    // An algorithm of the other key type, and a symmetric key, cannot sign.
    expect(await codeOf(c.SignByAsymmetricKey({ KeyId: ecc, Algorithm: 'RSA_PSS_SHA_256', Message: b64('m') }))).toBe('InvalidParameter');
    expect(await codeOf(c.SignByAsymmetricKey({ KeyId: rsaSign, Algorithm: 'ECC_P256_R1', Message: b64('m') }))).toBe('InvalidParameter');
    expect(await codeOf(c.SignByAsymmetricKey({ KeyId: aes, Algorithm: 'ECC_P256_R1', Message: b64('m') }))).toBe('InvalidParameter');
    expect(await codeOf(c.GetPublicKey({ KeyId: aes }))).toBe('InvalidParameter');
    // Symmetric operations refuse key pairs with their documented codes.
    for (const k of [dec, rsaSign, ecc]) {
      expect(await codeOf(c.Encrypt({ KeyId: k, Plaintext: b64('x') }))).toBe('InvalidParameter');
      expect(await codeOf(c.GenerateDataKey({ KeyId: k, KeySpec: 'AES_256' }))).toBe('InvalidParameter');
      expect(await codeOf(c.EnableKeyRotation({ KeyId: k }))).toBe('InvalidParameterValue');
      expect(await codeOf(c.GetParametersForImport({ KeyId: k, WrappingAlgorithm: 'RSAES_PKCS1_V1_5', WrappingKeySpec: 'RSA_2048' }))).toBe('UnsupportedOperation.NotExternalCmk');
      // A blob that names a key pair is a forgery: Decrypt calls it an invalid ciphertext.
      const blob = Buffer.from((await c.Encrypt({ KeyId: aes, Plaintext: b64('x') })).CiphertextBlob!, 'base64');
      const forged = Buffer.from(blob);
      Buffer.from(k.replace(/-/g, ''), 'hex').copy(forged, 3); // the blob's key id, bytes 3..18
      expect(await codeOf(c.Decrypt({ CiphertextBlob: forged.toString('base64') }))).toBe('InvalidParameterValue.InvalidCiphertext');
      expect(await codeOf(c.ReEncrypt({ CiphertextBlob: forged.toString('base64') }))).toBe('InvalidParameterValue.InvalidCiphertext');
      expect(await codeOf(c.ReEncrypt({ CiphertextBlob: blob.toString('base64'), DestinationKeyId: k }))).toBe('InvalidParameter');
    }
    // The token itself holds each private key to its one usage, sensitive and never extractable;
    // wrapped storage keeps each as a blob instead, and nothing of them in the token.
    if (WRAPPED) {
      for (const k of [dec, rsaSign, ecc, aes]) expect(await storedLabels(kms, k)).toEqual([`cmk ${k} v1`]);
    } else {
      const audit = await kms.cli<Array<{ label: string; class: string; usages: string[]; sensitive: boolean; extractable: boolean; neverExtractable: boolean; valueReadable: boolean }>>('token', 'audit');
      const of = (keyId: string) => audit.find((o) => o.label === `cmk ${keyId} v1`)!;
      expect(of(dec)).toMatchObject({ class: 'private', usages: ['DECRYPT'], sensitive: true, extractable: false, neverExtractable: true, valueReadable: false });
      expect(of(rsaSign)).toMatchObject({ class: 'private', usages: ['SIGN'], sensitive: true, extractable: false, neverExtractable: true, valueReadable: false });
      expect(of(ecc)).toMatchObject({ class: 'private', usages: ['SIGN'], sensitive: true, extractable: false, neverExtractable: true, valueReadable: false });
      expect(of(aes)).toMatchObject({ class: 'secret', usages: ['ENCRYPT', 'DECRYPT'] });
    }
  });
});

describe('documented errors', () => {
  it('answers each action its documented codes', async () => {
    const c = kmsClient(kms.endpoint, cred);
    const rsaSign = await createKey('ASYMMETRIC_SIGN_VERIFY_RSA_2048');
    const dec = await createKey('ASYMMETRIC_DECRYPT_RSA_2048');
    const unknown = crypto.randomUUID();
    const ct = b64(crypto.randomBytes(256));
    for (const KeyId of ['not-a-key', unknown]) {
      const code = KeyId === unknown ? 'ResourceUnavailable.CmkNotFound' : 'InvalidParameterValue.InvalidKeyId';
      expect(await codeOf(c.SignByAsymmetricKey({ KeyId, Algorithm: 'RSA_PKCS1_SHA_256', Message: b64('m') }))).toBe(code);
      expect(await codeOf(c.AsymmetricRsaDecrypt({ KeyId, Algorithm: 'RSAES_PKCS1_V1_5', Ciphertext: ct }))).toBe(code);
      expect(await codeOf(c.GetPublicKey({ KeyId }))).toBe(code);
      expect(await codeOf(c.VerifyByAsymmetricKey({ KeyId, Algorithm: 'RSA_PKCS1_SHA_256', Message: b64('m'), SignatureValue: ct }))).toBe(code);
    }
    // Parameters: algorithm, message type, message sizes, base64.
    const sign = (p: Record<string, string | undefined>) => codeOf(c.SignByAsymmetricKey({ KeyId: rsaSign, Algorithm: 'RSA_PKCS1_SHA_256', Message: b64('m'), ...p } as never));
    expect(await sign({ Algorithm: 'RSA_PSS_SHA_512' })).toBe('InvalidParameter');
    expect(await sign({ MessageType: 'HASH' })).toBe('InvalidParameter');
    expect(await sign({ Message: b64(crypto.randomBytes(4097)) })).toBe('InvalidParameter');
    expect(await sign({ Message: b64(crypto.randomBytes(31)), MessageType: 'DIGEST' })).toBe('InvalidParameter');
    expect(await sign({ Message: b64(crypto.randomBytes(33)), MessageType: 'DIGEST' })).toBe('InvalidParameter');
    expect(await sign({ Message: 'not*base64' })).toBe('InvalidParameter');
    expect(await sign({ Message: '' })).toBe('InvalidParameter');
    expect(await codeOf(c.AsymmetricRsaDecrypt({ KeyId: dec, Algorithm: 'RSAES_OAEP_SHA_512', Ciphertext: ct }))).toBe('InvalidParameter');
    expect(await codeOf(c.AsymmetricRsaDecrypt({ KeyId: dec, Algorithm: 'RSAES_PKCS1_V1_5', Ciphertext: '%%%' }))).toBe('InvalidParameter');
    expect(await codeOf(c.VerifyByAsymmetricKey({ KeyId: rsaSign, Algorithm: 'RSA_PKCS1_SHA_256', Message: b64('m'), SignatureValue: '%%%' }))).toBe('InvalidParameter');
    // States: a disabled key neither signs nor decrypts; a key pending deletion neither.
    await c.DisableKey({ KeyId: rsaSign });
    await c.DisableKey({ KeyId: dec });
    expect(await sign({})).toBe('ResourceUnavailable.CmkStateNotSupport');
    expect(await codeOf(c.AsymmetricRsaDecrypt({ KeyId: dec, Algorithm: 'RSAES_PKCS1_V1_5', Ciphertext: ct }))).toBe('ResourceUnavailable.CmkStateNotSupport');
    await c.ScheduleKeyDeletion({ KeyId: rsaSign, PendingWindowInDays: 7 });
    expect(await sign({})).toBe('ResourceUnavailable.CmkStateNotSupport');
    await c.CancelKeyDeletion({ KeyId: rsaSign });
    await c.EnableKey({ KeyId: rsaSign });
    expect(await sign({})).toBe('OK');
    // CreateKey: no imported material for key pairs; SM2 is not offered on SoftHSM.
    expect(await codeOf(c.CreateKey({ Alias: 'asym_external', KeyUsage: 'ASYMMETRIC_SIGN_VERIFY_ECC', Type: 2 }))).toBe('InvalidParameterValue.InvalidType');
    expect(await codeOf(c.CreateKey({ Alias: 'asym_sm2', KeyUsage: 'ASYMMETRIC_SIGN_VERIFY_SM2' }))).toBe('UnsupportedOperation.UnsupportedKeyUsageInCurrentRegion');
  });
});

describe('isolation and the other face', () => {
  it('hides an account\'s key pairs from another account', async () => {
    const keyId = await createKey('ASYMMETRIC_SIGN_VERIFY_ECC');
    const o = kmsClient(kms.endpoint, other);
    expect(await codeOf(o.GetPublicKey({ KeyId: keyId }))).toBe('ResourceUnavailable.CmkNotFound');
    expect(await codeOf(o.SignByAsymmetricKey({ KeyId: keyId, Algorithm: 'ECC_P256_R1', Message: b64('m') }))).toBe('ResourceUnavailable.CmkNotFound');
    expect(await codeOf(o.VerifyByAsymmetricKey({ KeyId: keyId, Algorithm: 'ECC_P256_R1', Message: b64('m'), SignatureValue: b64('s') }))).toBe('ResourceUnavailable.CmkNotFound');
    const dec = await createKey('ASYMMETRIC_DECRYPT_RSA_2048');
    expect(await codeOf(o.AsymmetricRsaDecrypt({ KeyId: dec, Algorithm: 'RSAES_PKCS1_V1_5', Ciphertext: b64(crypto.randomBytes(256)) }))).toBe('ResourceUnavailable.CmkNotFound');
  });

  it('shows key pairs to the REST face, which refuses to encrypt with them', async () => {
    const keyId = await createKey('ASYMMETRIC_DECRYPT_RSA_2048', 'asym_rest_view');
    const hw = HuaweiClient.of(kms.endpoint, cred);
    expect((await hw.post('describe-key', { key_id: keyId })).key_info).toMatchObject({ key_id: keyId, key_alias: 'asym_rest_view', key_state: '2' });
    expect((await hw.post('list-keys', {})).keys).toEqual(expect.arrayContaining([keyId]));
    expect(await huaweiCodeOf(hw.post('encrypt-data', { key_id: keyId, plain_text: 'x' }))).toBe('400 KMS.0308');
  });
});

describe('policies and rate limits', () => {
  it('lets a sub-user sign only as its policy allows', async () => {
    const signKey = await createKey('ASYMMETRIC_SIGN_VERIFY_ECC');
    const policy = write('verify-only.json', JSON.stringify({ version: '2.0', statement: [{ effect: 'allow', action: ['name/kms:GetPublicKey', 'name/kms:VerifyByAsymmetricKey'], resource: '*' }] }));
    const user = await kms.cli<Credential>('user', 'create', '--account', cred.Uin, '--name', 'verifier', '--policy', path.join(dir, policy));
    const u = kmsClient(kms.endpoint, user);
    expect(await codeOf(u.GetPublicKey({ KeyId: signKey }))).toBe('OK');
    expect(await codeOf(u.VerifyByAsymmetricKey({ KeyId: signKey, Algorithm: 'ECC_P256_R1', Message: b64('m'), SignatureValue: b64('s') }))).toBe('OK');
    expect(await codeOf(u.SignByAsymmetricKey({ KeyId: signKey, Algorithm: 'ECC_P256_R1', Message: b64('m') }))).toBe('UnauthorizedOperation');
    expect(await codeOf(u.AsymmetricRsaDecrypt({ KeyId: signKey, Algorithm: 'RSAES_PKCS1_V1_5', Ciphertext: b64('c') }))).toBe('UnauthorizedOperation');
  });

  it('allows GetPublicKey 100 calls a second to an account', async () => {
    const limited = await kms.createAccount('asym-limited');
    const mine = await createKey('ASYMMETRIC_SIGN_VERIFY_ECC', 'limited_key', kmsClient(kms.endpoint, limited));
    const c = kmsClient(kms.endpoint, limited);
    await expectLimitedBurst(() => codeOf(c.GetPublicKey({ KeyId: mine })), 130, 100, 'OK');
  });
});

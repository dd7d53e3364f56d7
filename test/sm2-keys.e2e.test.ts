import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as pkcs11 from 'pkcs11js';
import { Credential, KmsService } from './support/kms-service';
import { send, signTc3 } from './support/signer';
import { b64, kmsClient } from './support/tencent-client';

/**
 * SM2 CMKs (ASYMMETRIC_DECRYPT_SM2, ASYMMETRIC_SIGN_VERIFY_SM2) over the Action API.
 *
 * SoftHSM has no SM2 mechanisms, so on it every SM2 usage is refused. No GM-certified HSM is
 * available here, so the in-token SM2 path cannot run: the second part only drives its
 * plumbing (the profile's `gm.sm2` slots, key-pair templates, CKA_EC_POINT, the SPKI, the
 * signature layouts) through a SoftHSM token whose profile puts SoftHSM's EC mechanisms in the
 * SM2 slots. SoftHSM then makes real key pairs on the SM2 curve, but signs with ECDSA, not SM2:
 * the signatures there are checked for their shape only.
 */

const SM2_USAGES = ['ASYMMETRIC_DECRYPT_SM2', 'ASYMMETRIC_SIGN_VERIFY_SM2'];
const UNSUPPORTED = 'UnsupportedOperation.UnsupportedKeyUsageInCurrentRegion';
const UNKNOWN = '00000000-0000-4000-8000-000000000000';
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kms-sm2-keys-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const call = async (kms: KmsService, cred: Credential, action: string, body: Record<string, unknown>) => {
  const r = await send(signTc3(kms.endpoint, cred, { action, body: JSON.stringify(body) }));
  return { ...r, code: r.code ?? 'OK' };
};

describe('on SoftHSM, which has no SM2', () => {
  let kms: KmsService;
  let root: Credential;
  beforeAll(async () => {
    kms = await KmsService.start({ env: { KMS_RATE_LIMITS: 'off' } });
    root = await kms.createAccount('sm2-refused');
  });
  afterAll(() => kms.stop());
  const c = () => kmsClient(kms.endpoint, root);
  const act = (action: string, body: Record<string, unknown>, cred = root) => call(kms, cred, action, body);

  it('refuses to create SM2 keys, and ListAlgorithms does not offer them', async () => {
    for (const KeyUsage of SM2_USAGES) expect((await act('CreateKey', { Alias: `sm2-${KeyUsage.length}`, KeyUsage })).code).toBe(UNSUPPORTED);
    const r = await c().ListAlgorithms();
    const listed = [...r.SymmetricAlgorithms!, ...r.AsymmetricAlgorithms!, ...r.AsymmetricSignVerifyAlgorithms!];
    expect(listed.filter((a) => SM2_USAGES.includes(a.KeyUsage!) || /SM2/.test(a.Algorithm!))).toEqual([]);
  });

  it('answers every SM2 operation on an existing key with UnsupportedKeyUsageInCurrentRegion', async () => {
    const ecc = (await c().CreateKey({ Alias: 'sm2-ecc', KeyUsage: 'ASYMMETRIC_SIGN_VERIFY_ECC' })).KeyId!;
    const rsa = (await c().CreateKey({ Alias: 'sm2-rsa', KeyUsage: 'ASYMMETRIC_DECRYPT_RSA_2048' })).KeyId!;
    const aes = (await c().CreateKey({ Alias: 'sm2-aes' })).KeyId!;
    for (const Algorithm of ['SM2DSA', 'SM2DSA_ASN1', 'SM2DSA_RAW']) {
      expect((await act('SignByAsymmetricKey', { KeyId: ecc, Algorithm, Message: b64('m') })).code).toBe(UNSUPPORTED);
      expect((await act('VerifyByAsymmetricKey', { KeyId: ecc, Algorithm, Message: b64('m'), SignatureValue: b64('s') })).code).toBe(UNSUPPORTED);
    }
    for (const KeyId of [rsa, aes, ecc]) {
      expect((await act('AsymmetricSm2Encrypt', { KeyId, Plaintext: b64('p') })).code).toBe(UNSUPPORTED);
      expect((await act('AsymmetricSm2Decrypt', { KeyId, Ciphertext: sm2Ciphertext() })).code).toBe(UNSUPPORTED);
    }
  });

  it('answers the documented codes that come before the key', async () => {
    const ciphertext = sm2Ciphertext();
    expect((await act('AsymmetricSm2Decrypt', { KeyId: 'not-a-key-id', Ciphertext: ciphertext })).code).toBe('InvalidParameterValue.InvalidKeyId');
    expect((await act('AsymmetricSm2Decrypt', { KeyId: UNKNOWN, Ciphertext: ciphertext })).code).toBe('ResourceUnavailable.CmkNotFound');
    expect((await act('AsymmetricSm2Decrypt', { KeyId: UNKNOWN, Ciphertext: 'not base64!' })).code).toBe('InvalidParameter');
    expect((await act('AsymmetricSm2Decrypt', { KeyId: UNKNOWN, Ciphertext: b64('not an SM2 ciphertext') })).code).toBe('InvalidParameter');
    expect((await act('AsymmetricSm2Decrypt', { KeyId: UNKNOWN, Ciphertext: b64(Buffer.alloc(1537, 4)) })).code).toBe('InvalidParameter');
    expect((await act('AsymmetricSm2Decrypt', { KeyId: UNKNOWN })).code).toBe('MissingParameter');
    expect((await act('AsymmetricSm2Encrypt', { KeyId: 'not-a-key-id', Plaintext: b64('p') })).code).toBe('InvalidParameterValue.InvalidKeyId');
    expect((await act('AsymmetricSm2Encrypt', { KeyId: UNKNOWN, Plaintext: b64('p') })).code).toBe('ResourceUnavailable.CmkNotFound');
    expect((await act('AsymmetricSm2Encrypt', { KeyId: UNKNOWN, Plaintext: '***' })).code).toBe('InvalidParameterValue.InvalidPlaintext');
    expect((await act('AsymmetricSm2Encrypt', { KeyId: UNKNOWN, Plaintext: b64(Buffer.alloc(1025)) })).code).toBe('InvalidParameterValue.InvalidPlaintext');
    expect((await act('AsymmetricSm2Encrypt', { KeyId: UNKNOWN, Plaintext: '' })).code).toBe('InvalidParameterValue.InvalidPlaintext');
    expect((await act('SignByAsymmetricKey', { KeyId: UNKNOWN, Algorithm: 'SM2DSA', Message: b64('m') })).code).toBe('ResourceUnavailable.CmkNotFound');
    expect((await act('SignByAsymmetricKey', { KeyId: UNKNOWN, Algorithm: 'SM2DSA', MessageType: 'DIGEST', Message: b64('short') })).code).toBe('InvalidParameter');
    expect((await act('SignByAsymmetricKey', { KeyId: UNKNOWN, Algorithm: 'SM2DSA_DER', Message: b64('m') })).code).toBe('InvalidParameter');
    const nobody = await kms.cli<Credential>('user', 'create', '--account', root.Uin, '--name', 'sm2-nobody');
    const key = (await c().CreateKey({ Alias: 'sm2-guarded' })).KeyId!;
    expect((await act('AsymmetricSm2Decrypt', { KeyId: key, Ciphertext: ciphertext }, nobody)).code).toBe('UnauthorizedOperation');
    expect((await act('AsymmetricSm2Encrypt', { KeyId: key, Plaintext: b64('p') }, nobody)).code).toBe('UnauthorizedOperation');
  });
});

describe('through gm.sm2, with SoftHSM\'s EC mechanisms standing in for a vendor\'s SM2 ones', () => {
  let kms: KmsService;
  let root: Credential;
  beforeAll(async () => {
    // A vendor's SM2 decryption id, which SoftHSM does not list: the usage is not offered, and the log says why.
    kms = await standIn('gm-stand-in', { sign: hex(pkcs11.CKM_ECDSA), signatureFormat: 'raw', decrypt: '0x80008200' });
    root = await kms.createAccount('sm2-stand-in');
  });
  afterAll(() => kms.stop());
  const c = () => kmsClient(kms.endpoint, root);
  const act = (action: string, body: Record<string, unknown>) => call(kms, root, action, body);

  it('offers SM2 signing keys, the usage whose mechanisms the profile declares, and not SM2 decryption', async () => {
    const r = await c().ListAlgorithms();
    expect(r.AsymmetricSignVerifyAlgorithms).toContainEqual({ KeyUsage: 'ASYMMETRIC_SIGN_VERIFY_SM2', Algorithm: 'SM2' });
    expect(r.AsymmetricAlgorithms!.map((a) => a.KeyUsage)).not.toContain('ASYMMETRIC_DECRYPT_SM2');
    expect((await act('CreateKey', { Alias: 'no-sm2-decrypt', KeyUsage: 'ASYMMETRIC_DECRYPT_SM2' })).code).toBe(UNSUPPORTED);
    expect(kms.logs).toMatch(/the HSM profile declares SM2 mechanisms the token does not list; their usages are not offered","mechanisms":"gm\.sm2\.decrypt CKM_0x80008200"/);
  });

  it('makes the pair in the token, sign-only and sensitive, and answers its public key as an SM2 key OpenSSL reads', async () => {
    const k = await c().CreateKey({ Alias: 'sm2-signer', KeyUsage: 'ASYMMETRIC_SIGN_VERIFY_SM2' });
    expect(k).toMatchObject({ KeyUsage: 'ASYMMETRIC_SIGN_VERIFY_SM2', KeyState: 'Enabled' });
    const pub = await c().GetPublicKey({ KeyId: k.KeyId! });
    const pem = path.join(dir, 'sm2-pub.pem');
    fs.writeFileSync(pem, pub.PublicKeyPem!);
    expect(execFileSync('openssl', ['pkey', '-pubin', '-in', pem, '-noout', '-text']).toString()).toMatch(/ASN1 OID: SM2/);
    expect(Buffer.from(pub.PublicKey!, 'base64').subarray(0, 26).toString('hex')).toBe('3059301306072a8648ce3d020106082a811ccf5501822d034200');
    const audit = await kms.cli<Array<{ label: string; class: string; usages: string[]; sensitive: boolean; extractable: boolean }>>('token', 'audit');
    expect(audit.find((o) => o.label === `cmk ${k.KeyId} v1`)).toMatchObject({ class: 'private', usages: ['SIGN'], sensitive: true, extractable: false });
  });

  it('signs through the declared mechanism in each documented layout (ECDSA here, so the shape is all that is checked)', async () => {
    const keyId = (await c().CreateKey({ Alias: 'sm2-layouts', KeyUsage: 'ASYMMETRIC_SIGN_VERIFY_SM2' })).KeyId!;
    const sign = async (Algorithm: string, MessageType?: string, Message = b64('message')) => Buffer.from((await c().SignByAsymmetricKey({ KeyId: keyId, Algorithm, Message, MessageType })).Signature!, 'base64');
    expect(await sign('SM2DSA_RAW')).toHaveLength(64);
    expect(await sign('SM2DSA_RAW', 'DIGEST', b64(Buffer.alloc(32, 7)))).toHaveLength(64);
    for (const der of [await sign('SM2DSA'), await sign('SM2DSA_ASN1')]) {
      expect(execFileSync('openssl', ['asn1parse', '-inform', 'DER'], { input: der }).toString()).toMatch(/SEQUENCE[\s\S]*INTEGER[\s\S]*INTEGER/);
    }
    // SM2 verification is a public-key check done by the service: an ECDSA signature is not an SM2 one.
    const v = await c().VerifyByAsymmetricKey({ KeyId: keyId, Algorithm: 'SM2DSA_RAW', Message: b64('message'), SignatureValue: (await sign('SM2DSA_RAW')).toString('base64') });
    expect(v.SignatureValid).toBe(false);
    // Signatures not in the named layout verify nothing, rather than fail the call.
    for (const [Algorithm, SignatureValue] of [['SM2DSA_RAW', b64(Buffer.alloc(63))], ['SM2DSA', b64(Buffer.alloc(64))], ['SM2DSA_ASN1', b64('3006020101020101ff')]]) {
      expect((await c().VerifyByAsymmetricKey({ KeyId: keyId, Algorithm, Message: b64('message'), SignatureValue })).SignatureValid).toBe(false);
    }
    await c().DisableKey({ KeyId: keyId });
    expect((await act('SignByAsymmetricKey', { KeyId: keyId, Algorithm: 'SM2DSA', Message: b64('m') })).code).toBe('ResourceUnavailable.CmkStateNotSupport');
    expect((await act('VerifyByAsymmetricKey', { KeyId: keyId, Algorithm: 'SM2DSA', Message: b64('m'), SignatureValue: b64('s') })).code).toBe('ResourceUnavailable.CmkStateNotSupport');
    await c().EnableKey({ KeyId: keyId });
    expect((await c().SignByAsymmetricKey({ KeyId: keyId, Algorithm: 'SM2DSA_RAW', Message: b64('m') })).Signature).toBeDefined();
  });

  it('refuses SM2 encryption and decryption where the token has no SM2 decryption, and SM2 signing with a P-256 key', async () => {
    const keyId = (await c().CreateKey({ Alias: 'sm2-not-for-decrypt', KeyUsage: 'ASYMMETRIC_SIGN_VERIFY_SM2' })).KeyId!;
    // The token here has SM2 signing but no SM2 decryption.
    expect((await act('AsymmetricSm2Encrypt', { KeyId: keyId, Plaintext: b64('p') })).code).toBe(UNSUPPORTED);
    expect((await act('AsymmetricSm2Decrypt', { KeyId: keyId, Ciphertext: sm2Ciphertext() })).code).toBe(UNSUPPORTED);
    const ecc = (await c().CreateKey({ Alias: 'ecc-not-sm2', KeyUsage: 'ASYMMETRIC_SIGN_VERIFY_ECC' })).KeyId!;
    // SM2 signing exists on this token, so a P-256 key is the wrong key for it.
    expect((await act('SignByAsymmetricKey', { KeyId: ecc, Algorithm: 'SM2DSA', Message: b64('m') })).code).toBe('InvalidParameter');
  });
});

describe('through gm.sm2 declaring in-token SM3 signing only, DER signatures, and a decryption mechanism the token refuses', () => {
  let kms: KmsService;
  let root: Credential;
  beforeAll(async () => {
    // In the slot of a vendor's SM3-with-SM2 (SoftHSM 2.6 has no hashing ECDSA): it answers r || s, not the DER the profile claims.
    kms = await standIn('gm-stand-in-2', { signWithSm3: hex(pkcs11.CKM_ECDSA), signatureFormat: 'der', decrypt: hex(pkcs11.CKM_ECDH1_DERIVE) });
    root = await kms.createAccount('sm2-stand-in-2');
  });
  afterAll(() => kms.stop());
  const c = () => kmsClient(kms.endpoint, root);
  const act = (action: string, body: Record<string, unknown>) => call(kms, root, action, body);

  it('offers both SM2 usages', async () => {
    const r = await c().ListAlgorithms();
    expect(r.AsymmetricAlgorithms).toContainEqual({ KeyUsage: 'ASYMMETRIC_DECRYPT_SM2', Algorithm: 'SM2' });
    expect(r.AsymmetricSignVerifyAlgorithms).toContainEqual({ KeyUsage: 'ASYMMETRIC_SIGN_VERIFY_SM2', Algorithm: 'SM2' });
  });

  it('refuses to sign a digest without a digest-signing mechanism, and answers InternalServerError when the token\'s signature is not the declared DER', async () => {
    const keyId = (await c().CreateKey({ Alias: 'sm2-sm3-signer', KeyUsage: 'ASYMMETRIC_SIGN_VERIFY_SM2' })).KeyId!;
    const digest = await act('SignByAsymmetricKey', { KeyId: keyId, Algorithm: 'SM2DSA', MessageType: 'DIGEST', Message: b64(Buffer.alloc(32, 1)) });
    expect(digest.code).toBe('InvalidParameter');
    expect((digest.body.Error as { Message: string }).Message).toMatch(/signs SM2 only whole messages/);
    const raw = await act('SignByAsymmetricKey', { KeyId: keyId, Algorithm: 'SM2DSA', Message: b64('message') });
    expect(raw.code).toBe('InternalServerError');
    const logged = `"msg":"internal error","requestId":"${raw.body.RequestId}","action":"SignByAsymmetricKey"`;
    for (let i = 0; i < 20 && !kms.logs.includes(logged); i++) await new Promise((done) => setTimeout(done, 100));
    expect(kms.logs).toContain(logged);
    expect(kms.logs).toMatch(/the token answered a signature that is not DER \([^)]*\); check gm\.sm2\.signatureFormat/);
  });

  it('encrypts to a decryption key\'s public point, as GM/T 0009 ASN.1, and answers InternalServerError when the token refuses to decrypt', async () => {
    const keyId = (await c().CreateKey({ Alias: 'sm2-decrypter', KeyUsage: 'ASYMMETRIC_DECRYPT_SM2' })).KeyId!;
    const audit = await kms.cli<Array<{ label: string; usages: string[] }>>('token', 'audit');
    expect(audit.find((o) => o.label === `cmk ${keyId} v1`)?.usages).toEqual(['DECRYPT']);
    const enc = (await c().request('AsymmetricSm2Encrypt', { KeyId: keyId, Plaintext: b64('to the SM2 key') })) as { KeyId: string; Ciphertext: string };
    expect(enc.KeyId).toBe(keyId);
    const der = Buffer.from(enc.Ciphertext, 'base64');
    expect(execFileSync('openssl', ['asn1parse', '-inform', 'DER'], { input: der }).toString()).toMatch(/SEQUENCE[\s\S]*INTEGER[\s\S]*INTEGER[\s\S]*OCTET STRING[\s\S]*OCTET STRING/);
    expect((await act('AsymmetricSm2Decrypt', { KeyId: keyId, Ciphertext: enc.Ciphertext })).code).toBe('InternalServerError');
    // A signing operation on the decryption key is the wrong usage: the documented code.
    expect((await act('SignByAsymmetricKey', { KeyId: keyId, Algorithm: 'SM2DSA', Message: b64('m') })).code).toBe('InvalidParameter');
    const signer = (await c().CreateKey({ Alias: 'sm2-not-decrypter', KeyUsage: 'ASYMMETRIC_SIGN_VERIFY_SM2' })).KeyId!;
    expect((await act('AsymmetricSm2Decrypt', { KeyId: signer, Ciphertext: enc.Ciphertext })).code).toBe('InvalidParameterValue.InvalidKeyUsage');
    await c().DisableKey({ KeyId: keyId });
    expect((await act('AsymmetricSm2Encrypt', { KeyId: keyId, Plaintext: b64('p') })).code).toBe('ResourceUnavailable.CmkDisabled');
    // AsymmetricSm2Decrypt documents no CmkDisabled: every refused state is CmkStateNotSupport.
    expect((await act('AsymmetricSm2Decrypt', { KeyId: keyId, Ciphertext: enc.Ciphertext })).code).toBe('ResourceUnavailable.CmkStateNotSupport');
    await c().ScheduleKeyDeletion({ KeyId: keyId, PendingWindowInDays: 7 });
    expect((await act('AsymmetricSm2Decrypt', { KeyId: keyId, Ciphertext: enc.Ciphertext })).code).toBe('ResourceUnavailable.CmkStateNotSupport');
    expect((await act('AsymmetricSm2Encrypt', { KeyId: keyId, Plaintext: b64('p') })).code).toBe('ResourceUnavailable.CmkStateNotSupport');
  });
});

const hex = (n: number) => `0x${n.toString(16)}`;

/** A service on a SoftHSM token of its own whose profile puts SoftHSM's EC mechanisms in the gm.sm2 slots, with `sm2` added. */
async function standIn(label: string, sm2: Record<string, string>): Promise<KmsService> {
  const home = fs.mkdtempSync(path.join(dir, `${label}-`));
  const tokens = path.join(home, 'tokens');
  fs.mkdirSync(tokens);
  const conf = path.join(home, 'softhsm2.conf');
  fs.writeFileSync(conf, `directories.tokendir = ${tokens}\nobjectstore.backend = file\nlog.level = ERROR\n`);
  execFileSync('softhsm2-util', ['--init-token', '--free', '--label', label, '--so-pin', 'so-pin-1', '--pin', 'user-pin-1'], { env: { ...process.env, SOFTHSM2_CONF: conf } });
  const pinFile = path.join(home, 'pin');
  fs.writeFileSync(pinFile, 'user-pin-1\n', { mode: 0o600 });
  const module = ['/usr/lib/softhsm/libsofthsm2.so', '/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so'].find((p) => fs.existsSync(p))!;
  const profile = path.join(home, 'gm.json');
  // CKK_EC on the SM2 curve: SoftHSM (through OpenSSL 3) knows the curve, not the SM2 algorithms.
  const gm = { sm2: { keyType: hex(pkcs11.CKK_EC), keyPairGen: hex(pkcs11.CKM_EC_KEY_PAIR_GEN), ecParams: '06082a811ccf5501822d', ...sm2 } };
  fs.writeFileSync(profile, JSON.stringify({ module, token: { label }, pinFile, env: { SOFTHSM2_CONF: conf }, gm }));
  // Token mode, whatever the CI pass: SoftHSM 2.6.1 wraps an EC private key on the SM2 curve
  // but cannot unwrap it (C_UnwrapKey: CKR_FUNCTION_FAILED, its OpenSSL 3 reads the PKCS#8 as
  // an SM2 key, not an EC one), so in wrapped storage these stand-in keys could not be used.
  return KmsService.start({ env: { KMS_HSM_PROFILE: profile, KMS_KEY_STORAGE: 'token', KMS_RATE_LIMITS: 'off' } });
}

/** A well-formed SM2 ciphertext (GM/T 0009 ASN.1) to some other key, made by OpenSSL. */
function sm2Ciphertext(): string {
  const key = path.join(dir, `other-${process.hrtime.bigint()}.pem`);
  execFileSync('openssl', ['genpkey', '-algorithm', 'SM2', '-out', key]);
  const pub = path.join(dir, `other-${process.hrtime.bigint()}.pub`);
  execFileSync('openssl', ['pkey', '-in', key, '-pubout', '-out', pub]);
  return execFileSync('openssl', ['pkeyutl', '-encrypt', '-pubin', '-inkey', pub], { input: 'secret' }).toString('base64');
}

import * as crypto from 'node:crypto';
import huks, { BusinessError, HuksParam, HuksReturnResult, HuksTag } from '../src/client/huks';
import { buf, segments, stream, u8, useAccount } from './support/huks-session';
import { Credential, KmsService } from './support/kms-service';

/**
 * RSA-2048 and ECC P-256 key pairs through HUKS sessions, driven only through the client:
 * generateKeyItem, exportKeyItem, sign and verify streamed in segments (signatures checked with
 * Node's crypto against the exported public key), RSA decryption of what Node's crypto
 * encrypted, and the codes for what the service does not do.
 */
let kms: KmsService;
let cred: Credential;

beforeAll(async () => {
  kms = await KmsService.start();
  cred = await kms.createAccount('huks-pairs');
  useAccount(kms, cred);
  // One at a time: key-pair generation holds the worker (a synchronous token call), and on a
  // loaded machine requests queued behind several could pass Node's 30 s request timeout.
  await huks.generateKeyItem('rsa-sign', { properties: pair(ALG.HUKS_ALG_RSA, 2048, SIGN | VERIFY) });
  await huks.generateKeyItem('rsa-dec', { properties: pair(ALG.HUKS_ALG_RSA, 2048, PURPOSE.HUKS_KEY_PURPOSE_ENCRYPT | DECRYPT) });
  await huks.generateKeyItem('ecc-sign', { properties: pair(ALG.HUKS_ALG_ECC, 256, SIGN | VERIFY) });
});
afterAll(() => kms.stop());
beforeEach(() => useAccount(kms, cred));

const { HuksKeyPurpose: PURPOSE, HuksKeyAlg: ALG, HuksKeyPadding: PAD, HuksKeyDigest: DIGEST } = huks;
const SIGN = PURPOSE.HUKS_KEY_PURPOSE_SIGN;
const VERIFY = PURPOSE.HUKS_KEY_PURPOSE_VERIFY;
const DECRYPT = PURPOSE.HUKS_KEY_PURPOSE_DECRYPT;

function pair(alg: number, size: number, purpose: number, padding?: number, digest?: number): HuksParam[] {
  return [
    { tag: HuksTag.HUKS_TAG_ALGORITHM, value: alg },
    { tag: HuksTag.HUKS_TAG_KEY_SIZE, value: size },
    { tag: HuksTag.HUKS_TAG_PURPOSE, value: purpose },
    ...(padding === undefined ? [] : [{ tag: HuksTag.HUKS_TAG_PADDING, value: padding }]),
    ...(digest === undefined ? [] : [{ tag: HuksTag.HUKS_TAG_DIGEST, value: digest }]),
  ];
}
const rsa = (purpose: number, padding: number, digest = DIGEST.HUKS_DIGEST_SHA256) => pair(ALG.HUKS_ALG_RSA, 2048, purpose, padding, digest);
const ecc = (purpose: number) => pair(ALG.HUKS_ALG_ECC, 256, purpose, PAD.HUKS_PADDING_NONE, DIGEST.HUKS_DIGEST_SHA256);

const publicKey = async (alias: string) => crypto.createPublicKey({ key: buf((await huks.exportKeyItem(alias, {})).outData), format: 'der', type: 'spki' });
const message = crypto.randomBytes(200 * 1024 + 7);

/** Verifies `signature` in a session: the message in segments, the signature as finish's inData. */
const verifyInSession = (alias: string, props: HuksParam[], signature: Buffer) => stream(alias, props, segments(message, 64 * 1024), u8(signature));

describe('signatures, streamed and checked with Node', () => {
  it.each([
    ['PSS', PAD.HUKS_PADDING_PSS, { padding: crypto.constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 }],
    ['PKCS1 v1.5', PAD.HUKS_PADDING_PKCS1_V1_5, { padding: crypto.constants.RSA_PKCS1_PADDING }],
  ])('RSA-2048 %s with SHA-256', async (_name, padding, node) => {
    const key = await publicKey('rsa-sign');
    expect(key.asymmetricKeyDetails?.modulusLength).toBe(2048);
    const signature = await stream('rsa-sign', rsa(SIGN, padding), segments(message, 64 * 1024), u8('last part'));
    expect(signature.length).toBe(256);
    expect(crypto.verify('sha256', Buffer.concat([message, Buffer.from('last part')]), { key, ...node }, signature)).toBe(true);
    // The service's verification: its own signature passes, a changed one does not.
    const whole = crypto.sign('sha256', message, { key: crypto.generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey, ...node });
    await expect(verifyInSession('rsa-sign', rsa(VERIFY, padding), whole)).rejects.toMatchObject({ code: 12000008, reason: 'VerifyFailed' });
    const mine = await stream('rsa-sign', rsa(SIGN, padding), segments(message, 50_000));
    expect((await verifyInSession('rsa-sign', rsa(VERIFY, padding), mine)).length).toBe(0);
  });

  it('ECC P-256 with SHA-256 (ECDSA, DER), in both forms of exportKeyItem', async () => {
    const exported = await new Promise<HuksReturnResult>((resolve, reject) => huks.exportKeyItem('ecc-sign', {}, (e, d) => (e ? reject(e) : resolve(d))));
    const key = crypto.createPublicKey({ key: buf(exported.outData), format: 'der', type: 'spki' });
    expect(key.asymmetricKeyDetails?.namedCurve).toBe('prime256v1');
    const signature = await stream('ecc-sign', ecc(SIGN), segments(message, 64 * 1024));
    expect(crypto.verify('sha256', message, key, signature)).toBe(true);
    expect((await verifyInSession('ecc-sign', ecc(VERIFY), signature)).length).toBe(0);
    const other = Buffer.from(signature);
    other[other.length - 1] ^= 1;
    await expect(verifyInSession('ecc-sign', ecc(VERIFY), other)).rejects.toMatchObject({ code: 12000008, reason: 'VerifyFailed' });
  });
});

describe('RSA decryption of what Node encrypted', () => {
  const secret = Buffer.from('a secret sealed to the public key');

  it.each([
    ['OAEP with SHA-1', rsa(DECRYPT, PAD.HUKS_PADDING_OAEP, DIGEST.HUKS_DIGEST_SHA1), { padding: crypto.constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha1' }],
    ['PKCS1 v1.5', rsa(DECRYPT, PAD.HUKS_PADDING_PKCS1_V1_5), { padding: crypto.constants.RSA_PKCS1_PADDING }],
  ])('%s, the ciphertext in two parts', async (_name, props, node) => {
    const sealed = crypto.publicEncrypt({ key: await publicKey('rsa-dec'), ...node }, secret);
    expect(await stream('rsa-dec', props, [u8(sealed.subarray(0, 100))], u8(sealed.subarray(100)))).toEqual(secret);
  });

  it('12000006 for a ciphertext the key does not decrypt, as HUKS answers its crypto engine failing', async () => {
    const err = await stream('rsa-dec', rsa(DECRYPT, PAD.HUKS_PADDING_OAEP, DIGEST.HUKS_DIGEST_SHA1), [], u8(crypto.randomBytes(256))).catch((e: BusinessError) => e);
    expect(err).toMatchObject({ code: 12000006, reason: 'DecryptFailed' });
  });

  it('12000003 for more than one RSA block', async () => {
    await expect(stream('rsa-dec', rsa(DECRYPT, PAD.HUKS_PADDING_PKCS1_V1_5), [u8(crypto.randomBytes(200))], u8(crypto.randomBytes(57)))).rejects.toMatchObject({ code: 12000003 });
  });
});

describe('what the service does not do', () => {
  const refused = async (f: () => Promise<unknown>, code: number, reason?: string) => expect(await f().then(() => 'accepted', (e: BusinessError) => e)).toMatchObject(reason ? { code, reason } : { code });

  it('12000001 for key pairs of other sizes, curves or purposes, and for imported pairs', async () => {
    await refused(() => huks.generateKeyItem('rsa-4096', { properties: pair(ALG.HUKS_ALG_RSA, 4096, SIGN | VERIFY) }), 12000001, 'Unsupported');
    await refused(() => huks.generateKeyItem('ecc-384', { properties: pair(ALG.HUKS_ALG_ECC, 384, SIGN | VERIFY) }), 12000001, 'Unsupported');
    await refused(() => huks.generateKeyItem('ecc-dec', { properties: pair(ALG.HUKS_ALG_ECC, 256, DECRYPT) }), 12000001, 'Unsupported');
    await refused(() => huks.generateKeyItem('rsa-both', { properties: pair(ALG.HUKS_ALG_RSA, 2048, SIGN | DECRYPT) }), 12000001, 'Unsupported');
    await refused(() => huks.importKeyItem('rsa-imp', { properties: pair(ALG.HUKS_ALG_RSA, 2048, SIGN), inData: u8(crypto.randomBytes(32)) }), 12000001, 'Unsupported');
    await expect(huks.hasKeyItem('rsa-4096', {})).resolves.toBe(false);
  });

  it('12000001 for session algorithms not done here, 12000002 for a missing one', async () => {
    await refused(() => huks.initSession('rsa-dec', { properties: rsa(PURPOSE.HUKS_KEY_PURPOSE_ENCRYPT, PAD.HUKS_PADDING_OAEP) }), 12000001, 'Unsupported');
    await refused(() => huks.initSession('rsa-sign', { properties: rsa(SIGN, PAD.HUKS_PADDING_PSS, DIGEST.HUKS_DIGEST_SHA384) }), 12000001, 'Unsupported');
    await refused(() => huks.initSession('rsa-sign', { properties: rsa(SIGN, PAD.HUKS_PADDING_NONE) }), 12000001, 'Unsupported');
    await refused(() => huks.initSession('rsa-dec', { properties: rsa(DECRYPT, PAD.HUKS_PADDING_NONE) }), 12000001, 'Unsupported');
    // The token cannot do OAEP with SHA-256 (measured): the seed's code for a feature not supported.
    await refused(() => huks.initSession('rsa-dec', { properties: rsa(DECRYPT, PAD.HUKS_PADDING_OAEP, DIGEST.HUKS_DIGEST_SHA256) }), 12000001, 'Unsupported');
    await refused(() => huks.initSession('ecc-sign', { properties: rsa(SIGN, PAD.HUKS_PADDING_PSS) }), 12000001, 'Unsupported');
    await refused(() => huks.initSession('rsa-sign', { properties: pair(ALG.HUKS_ALG_RSA, 2048, SIGN, PAD.HUKS_PADDING_PSS) }), 12000002, 'MissingParameter');
  });

  it('12000003 for a key used for what it is not', async () => {
    await refused(() => huks.initSession('rsa-sign', { properties: rsa(DECRYPT, PAD.HUKS_PADDING_PKCS1_V1_5) }), 12000003, 'InvalidParameter');
    await refused(() => huks.initSession('rsa-dec', { properties: rsa(SIGN, PAD.HUKS_PADDING_PSS) }), 12000003, 'InvalidParameter');
    const aesGcm = [
      { tag: HuksTag.HUKS_TAG_ALGORITHM, value: ALG.HUKS_ALG_AES },
      { tag: HuksTag.HUKS_TAG_PURPOSE, value: PURPOSE.HUKS_KEY_PURPOSE_ENCRYPT },
      { tag: HuksTag.HUKS_TAG_BLOCK_MODE, value: huks.HuksCipherMode.HUKS_MODE_GCM },
      { tag: HuksTag.HUKS_TAG_NONCE, value: u8(crypto.randomBytes(12)) },
    ];
    await refused(() => huks.initSession('rsa-sign', { properties: aesGcm }), 12000003, 'InvalidParameter');
    await huks.generateKeyItem('aes', { properties: [aesGcm[0], aesGcm[1], { tag: HuksTag.HUKS_TAG_KEY_SIZE, value: 128 }] });
    await refused(() => huks.exportKeyItem('aes', {}), 12000003, 'InvalidParameter');
    await refused(() => huks.exportKeyItem('no-such-key', {}), 12000011, 'KeyNotFound');
  });
});

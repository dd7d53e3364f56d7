import * as crypto from 'node:crypto';
import * as os from 'node:os';
import huks from '../src/client/huks';
import { aesKey, gcm, segments, stream, u8 } from './support/huks-session';
import { KmsService } from './support/kms-service';
import { TestPki } from './support/test-pki';

/**
 * The client over TLS to the real service (a private CA given as `ca`), and plain key import
 * refused over plain HTTP from another address than the loopback.
 */
const ENC = huks.HuksKeyPurpose.HUKS_KEY_PURPOSE_ENCRYPT;
const DEC = huks.HuksKeyPurpose.HUKS_KEY_PURPOSE_DECRYPT;

describe('over TLS', () => {
  let pki: TestPki;
  let kms: KmsService;
  beforeAll(async () => {
    pki = new TestPki('huks-tls-ca');
    const cert = pki.server('huks-tls-server');
    kms = await KmsService.start({ env: { KMS_TLS_CERT_FILE: cert.certFile, KMS_TLS_KEY_FILE: cert.keyFile }, tls: { ca: pki.ca } });
  });
  afterAll(async () => {
    await kms.stop();
    pki.remove();
  });

  it('trusts the service through `ca`, imports plain material and streams through it', async () => {
    const cred = await kms.createAccount('huks-tls');
    const settings = { endpoint: `https://${kms.endpoint}`, secretId: cred.SecretId, secretKey: cred.SecretKey, region: 'ap-guangzhou' };
    huks.configure(settings);
    await expect(huks.hasKeyItem('k', {})).rejects.toMatchObject({ code: 12000005 });
    huks.configure({ ...settings, ca: pki.ca });
    const key = crypto.randomBytes(16);
    await huks.importKeyItem('k', { properties: aesKey(128), inData: u8(key) });
    const nonce = crypto.randomBytes(12);
    const data = crypto.randomBytes(300_000);
    const sealed = await stream('k', gcm(ENC, { bits: 128, nonce: u8(nonce) }), segments(data, 65_536));
    const c = crypto.createCipheriv('aes-128-gcm', key, nonce);
    expect(sealed.equals(Buffer.concat([c.update(data), c.final(), c.getAuthTag()]))).toBe(true);
    const plain = await stream('k', gcm(DEC, { bits: 128, nonce: u8(nonce), aeTag: u8(sealed.subarray(-16)) }), segments(sealed.subarray(0, -16), 65_536));
    expect(plain.equals(data)).toBe(true);
  });
});

/** An address of this machine other than the loopback, if it has one. */
const outside = Object.values(os.networkInterfaces())
  .flat()
  .find((a) => a && a.family === 'IPv4' && !a.internal)?.address;
const withOutsideAddress = outside ? describe : describe.skip;

withOutsideAddress('over plain HTTP from another address than the loopback', () => {
  let kms: KmsService;
  beforeAll(async () => {
    kms = await KmsService.start({ env: { KMS_HOST: '0.0.0.0', KMS_ALLOW_PLAINTEXT_HTTP: '1' } });
  });
  afterAll(() => kms.stop());

  it('refuses plain key material (12000012 InsecureTransport) and still generates keys', async () => {
    const cred = await kms.createAccount('huks-plain');
    huks.configure({ endpoint: `http://${outside}:${kms.port}`, secretId: cred.SecretId, secretKey: cred.SecretKey, region: 'ap-guangzhou' });
    await expect(huks.importKeyItem('k', { properties: aesKey(128), inData: new Uint8Array(16) })).rejects.toMatchObject({ code: 12000012, reason: 'InsecureTransport' });
    await expect(huks.hasKeyItem('k', {})).resolves.toBe(false);
    await huks.generateKeyItem('k', { properties: aesKey(128) });
    await expect(huks.hasKeyItem('k', {})).resolves.toBe(true);
  });
});

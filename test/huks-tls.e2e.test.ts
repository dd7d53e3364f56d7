import * as crypto from 'node:crypto';
import * as os from 'node:os';
import { HuksRaw, aesProps, gcmProps } from './support/huks-raw';
import { KmsService } from './support/kms-service';
import { TestPki } from './support/test-pki';

/**
 * importKeyItem with plain material over TLS from an address other than the loopback: accepted
 * (over plain HTTP from such an address it is refused, see huks-errors.e2e.test.ts), and the
 * key works as Node computes it.
 */
const external = Object.values(os.networkInterfaces())
  .flat()
  .find((i) => i && i.family === 'IPv4' && !i.internal)?.address;

let pki: TestPki;
let kms: KmsService;

beforeAll(async () => {
  pki = new TestPki();
  const { certFile, keyFile } = pki.server('huks-tls');
  kms = await KmsService.start({ env: { KMS_HOST: '0.0.0.0', KMS_TLS_CERT_FILE: certFile, KMS_TLS_KEY_FILE: keyFile }, tls: { ca: pki.ca } });
});
afterAll(async () => {
  await kms.stop();
  pki.remove();
});

it('accepts plain key material over TLS from a non-loopback address', async () => {
  if (!external) throw new Error('this test needs a non-loopback IPv4 address');
  // The certificate names 127.0.0.1; the client trusts the CA and ignores the name for this address.
  const huks = new HuksRaw(`https://${external}:${kms.port}`, await kms.createAccount('huks-tls'), 'ap-guangzhou', { ca: pki.ca });
  const key = crypto.randomBytes(16);
  await huks.import('tls-imported', aesProps(128, 3), Buffer.from(key));
  const nonce = crypto.randomBytes(12);
  const h = await huks.init('tls-imported', gcmProps(1, nonce, Buffer.alloc(0), 128));
  const sealed = await huks.finish(h, Buffer.from('over tls'));
  const d = crypto.createDecipheriv('aes-128-gcm', key, nonce);
  d.setAuthTag(sealed.subarray(sealed.length - 16));
  expect(Buffer.concat([d.update(sealed.subarray(0, sealed.length - 16)), d.final()]).toString()).toBe('over tls');
});

import * as crypto from 'node:crypto';
import { derToRaw, rawToDer } from '../../src/hsm/ecc';

/** CKM_ECDSA's r || s and the DER that OpenSSL and Node read, both ways. */
describe('ECDSA signature encoding', () => {
  it('turns r || s into the DER Node verifies, and back, leading zeros and high bits included', () => {
    const { privateKey, publicKey } = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
    for (let i = 0; i < 200; i++) {
      const data = crypto.randomBytes(16);
      const raw = crypto.sign('sha256', data, { key: privateKey, dsaEncoding: 'ieee-p1363' });
      const der = rawToDer(raw);
      expect(crypto.verify('sha256', data, publicKey, der)).toBe(true);
      expect(derToRaw(der)).toEqual(raw);
    }
    const edge = Buffer.concat([Buffer.alloc(31), Buffer.from([1]), Buffer.alloc(32, 0xff)]);
    expect(derToRaw(rawToDer(edge))).toEqual(edge);
  });

  it('reads anything but a P-256 DER signature as no signature', () => {
    const good = rawToDer(crypto.randomBytes(64));
    for (const bad of [Buffer.alloc(0), Buffer.from('nonsense'), good.subarray(0, -1), Buffer.concat([good, Buffer.from([0])]), Buffer.from([0x31, ...good.subarray(1)]), rawToDer(crypto.randomBytes(80))]) {
      expect(derToRaw(bad)).toBeNull();
    }
  });
});

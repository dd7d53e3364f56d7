import { HsmProfileError, parseProfile } from '../../src/hsm/hsm-profile';

/** The profile's `gm` section: vendor ids for SM2 and SM4, checked when the profile is read. */

const base = { module: '/usr/lib/vendor/libpkcs11.so', token: { label: 'gm' } };
const parse = (gm: unknown) => parseProfile({ ...base, gm }, 'gm.json', '/etc/kms').gm;
const sm2 = { keyType: '0x80000004', keyPairGen: '0x80008001', sign: '0x80008104', decrypt: '0x80008200' };

it('is empty when a profile declares no GM mechanisms', () => {
  expect(parseProfile(base, 'plain.json', '/etc/kms').gm).toEqual({});
});

it('reads hex strings and integers, with the documented defaults', () => {
  const gm = parse({ sm2: { ...sm2, signWithSm3: 0x80008102, ecParams: '06082a811ccf5501822d' }, sm4: { keyType: '0x80000106', keyGen: '0x8000a001', ecb: '0x8000a100', cbc: '0x8000a200' } });
  expect(gm.sm2).toEqual({
    keyType: 0x80000004,
    keyPairGen: 0x80008001,
    ecParams: Buffer.from('06082a811ccf5501822d', 'hex'),
    sign: 0x80008104,
    signWithSm3: 0x80008102,
    signatureFormat: 'raw',
    decrypt: 0x80008200,
    ciphertextFormat: 'c1c3c2',
  });
  expect(gm.sm4).toEqual({ keyType: 0x80000106, keyGen: 0x8000a001, ecb: 0x8000a100, cbc: 0x8000a200 });
  expect(parse({ sm2: { ...sm2, signatureFormat: 'der', ciphertextFormat: 'der' } }).sm2).toMatchObject({ signatureFormat: 'der', ciphertextFormat: 'der' });
});

it.each([
  [[], 'gm must be an object'],
  [{ sm3: {} }, 'gm has unknown field(s) sm3'],
  [{ sm2: 'x' }, 'gm.sm2 must be an object'],
  [{ sm2: { ...sm2, keyType: undefined } }, 'gm.sm2.keyType is required'],
  [{ sm2: { ...sm2, keyPairGen: undefined } }, 'gm.sm2.keyPairGen is required'],
  [{ sm2: { ...sm2, sign: '0x1000000000' } }, 'gm.sm2.sign must be an integer 0..0xffffffff'],
  [{ sm2: { ...sm2, sign: 2 ** 32 } }, 'gm.sm2.sign must be an integer 0..0xffffffff'],
  [{ sm2: { ...sm2, decrypt: '2147516928' } }, 'gm.sm2.decrypt must be an integer'],
  [{ sm2: { ...sm2, decrypt: -1 } }, 'gm.sm2.decrypt must be an integer'],
  [{ sm2: { ...sm2, signWithSm3: 1.5 } }, 'gm.sm2.signWithSm3 must be an integer'],
  [{ sm2: { keyType: 1, keyPairGen: 2 } }, 'gm.sm2 needs at least one of sign, signWithSm3, decrypt'],
  [{ sm2: { ...sm2, signatureFormat: 'asn1' } }, 'gm.sm2.signatureFormat must be one of "raw", "der"'],
  [{ sm2: { ...sm2, ciphertextFormat: 'C1C3C2' } }, 'gm.sm2.ciphertextFormat must be one of "c1c3c2", "c1c2c3", "der"'],
  [{ sm2: { ...sm2, ecParams: 'sm2' } }, 'gm.sm2.ecParams must be the hex of a DER OBJECT IDENTIFIER'],
  [{ sm2: { ...sm2, ecParams: '04082a811ccf5501822d' } }, 'gm.sm2.ecParams must be the hex of a DER OBJECT IDENTIFIER'],
  [{ sm2: { ...sm2, ecParams: '06092a811ccf5501822d' } }, 'gm.sm2.ecParams is not one DER OBJECT IDENTIFIER'],
  [{ sm2: { ...sm2, signWithSM3: 1 } }, 'gm.sm2 has unknown field(s) signWithSM3'],
  [{ sm4: { keyType: 1, keyGen: 2 } }, 'gm.sm4 needs at least one of ecb, cbc'],
  [{ sm4: { keyGen: 2, ecb: 3 } }, 'gm.sm4.keyType is required'],
  [{ sm4: { keyType: 1, ecb: 3 } }, 'gm.sm4.keyGen is required'],
  [{ sm4: { keyType: 1, keyGen: 2, cbc: 'x' } }, 'gm.sm4.cbc must be an integer'],
  [{ sm4: { keyType: 1, keyGen: 2, ecb: 3, ctr: 4 } }, 'gm.sm4 has unknown field(s) ctr'],
])('refuses %j, naming the file and the field', (gm, message) => {
  expect(() => parse(gm)).toThrow(HsmProfileError);
  expect(() => parse(gm)).toThrow(`gm.json: ${message}`);
});

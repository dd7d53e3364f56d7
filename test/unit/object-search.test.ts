import * as pkcs11 from 'pkcs11js';
import { readEach } from '../../src/hsm/object-search';

/**
 * How a listing reads what it found (the token's own race, another process destroying objects
 * meanwhile, is driven end to end in test/isolation-and-token.e2e.test.ts).
 */

const handles = [1, 2, 3].map((n) => Buffer.from([n]));
/** Reads a handle as its number, failing for handle `at` as pkcs11js would with `name`. */
const failing = (name: string, code: number, at: number) => (h: Buffer) => {
  if (h[0] === at) throw new pkcs11.Pkcs11Error(name, code, 'C_GetAttributeValue');
  return h[0];
};

it('leaves out an object destroyed between the search and the read, and lists the rest', () => {
  expect(readEach(handles, failing('CKR_OBJECT_HANDLE_INVALID', pkcs11.CKR_OBJECT_HANDLE_INVALID, 2))).toEqual([1, 3]);
});

it('gives up on any other failure: the listing would be wrong, not short', () => {
  expect(() => readEach(handles, failing('CKR_DEVICE_REMOVED', pkcs11.CKR_DEVICE_REMOVED, 2))).toThrow('CKR_DEVICE_REMOVED');
  expect(() =>
    readEach(handles, () => {
      throw new TypeError('not a handle');
    }),
  ).toThrow(TypeError);
});

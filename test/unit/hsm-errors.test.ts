import * as pkcs11 from 'pkcs11js';
import { HsmError, HsmMechanismError, ckrOf, isRecoverable, translate } from '../../src/hsm/hsm-errors';

/** The CKR of a failure, however pkcs11js 2.1 throws it (the token's own answers: test/unit/key-pair-generation.test.ts). */

it('reads the CKR of the methods pkcs11js leaves unwrapped (C_CopyObject, C_CreateObject, C_SetAttributeValue)', () => {
  // What C_CopyObject throws on a token that went away: the native Error, message "CKR_NAME:code".
  const removed = new Error(`CKR_DEVICE_REMOVED:${pkcs11.CKR_DEVICE_REMOVED}`);
  expect(ckrOf(removed)).toBe(pkcs11.CKR_DEVICE_REMOVED);
  expect(isRecoverable(removed)).toBe(true);
  expect(ckrOf(new Error('CKR_FUNCTION_NOT_SUPPORTED:84'))).toBe(pkcs11.CKR_FUNCTION_NOT_SUPPORTED);
});

it('reads no CKR from other errors, even one that quotes a CKR', () => {
  expect(ckrOf(new Error('the copy failed: CKR_DEVICE_REMOVED:50'))).toBeUndefined();
  expect(ckrOf(new TypeError('Parameter 1 MUST be Buffer'))).toBeUndefined();
  expect(ckrOf('CKR_DEVICE_REMOVED:50')).toBeUndefined();
});

it('translates the failure of an unwrapped method by its CKR, naming no function it cannot know', () => {
  const readOnly = translate(new Error(`CKR_ATTRIBUTE_READ_ONLY:${pkcs11.CKR_ATTRIBUTE_READ_ONLY}`));
  expect(readOnly).toBeInstanceOf(HsmError);
  expect(readOnly).toMatchObject({ message: 'CKR_ATTRIBUTE_READ_ONLY', ckr: pkcs11.CKR_ATTRIBUTE_READ_ONLY, method: undefined });
  expect(translate(new Error('CKR_FUNCTION_NOT_SUPPORTED:84'))).toBeInstanceOf(HsmMechanismError);
});

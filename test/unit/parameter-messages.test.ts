import { ImportTokenExpiredError, InvalidParameterError, NotExternalKeyError } from '../../src/common/domain-errors';
import { dataKeyBytes } from '../../src/crypto/data-key-spec';
import { contextAad } from '../../src/crypto/encryption-context';
import { recipientKey } from '../../src/crypto/public-key-encryption';
import { checkKeyId } from '../../src/keys/key-params';
import { toTencentError } from '../../src/api/tencent/tencent-errors';

/** The core names fields by its own ids; the Tencent face renders its parameter names, in the words it always answered. */
const thrown = (fn: () => unknown): InvalidParameterError => {
  try {
    fn();
  } catch (e) {
    if (e instanceof InvalidParameterError) return e;
    throw e;
  }
  throw new Error('nothing thrown');
};

it.each([
  [() => dataKeyBytes(undefined, undefined), 'dataKeySpec', 'one of dataKeySpec and dataKeyBytes is required', 'one of KeySpec and NumberOfBytes is required'],
  [() => dataKeyBytes(undefined, 0), 'dataKeyBytes', 'dataKeyBytes must be 1..1024', 'NumberOfBytes must be 1..1024'],
  [() => dataKeyBytes('AES_512', undefined), 'dataKeySpec', 'dataKeySpec must be one of AES_128, AES_256', 'KeySpec must be one of AES_128, AES_256'],
  [() => contextAad('{'), 'encryptionContext', 'encryptionContext is not valid JSON', 'EncryptionContext is not valid JSON'],
  [() => contextAad('{"a":"1"}{', 'destinationEncryptionContext'), 'destinationEncryptionContext', 'destinationEncryptionContext is not valid JSON', 'DestinationEncryptionContext is not valid JSON'],
  [() => checkKeyId('nope', 'keyIds'), 'keyIds', 'keyIds is not a valid CMK id', 'KeyIds is not a valid CMK id'],
  [() => recipientKey('not a pem', undefined), 'encryptionPublicKey', 'encryptionPublicKey must be a PEM public key (-----BEGIN PUBLIC KEY----- ... -----END PUBLIC KEY-----)', 'EncryptionPublicKey must be a PEM public key (-----BEGIN PUBLIC KEY----- ... -----END PUBLIC KEY-----)'],
  [() => recipientKey(undefined, 'RSAES_NOPE'), 'encryptionAlgorithm', expect.stringMatching(/^encryptionAlgorithm must be one of /), expect.stringMatching(/^EncryptionAlgorithm must be one of /)],
])('%#: names the field by its id, and Tencent by its parameter', (fn, field, core, tencent) => {
  const e = thrown(fn);
  expect(e.field).toBe(field);
  expect(e.message).toEqual(core);
  expect(toTencentError(e, 'r').message).toEqual(tencent);
});

it('renders a field id the face does not know as the id itself', () => {
  const e = new InvalidParameterError('somethingNew', (n) => `${n('somethingNew')} is wrong`);
  expect(toTencentError(e, 'r').message).toBe('somethingNew is wrong');
  expect(toTencentError(new InvalidParameterError('plain', 'a plain message'), 'r').message).toBe('a plain message');
});

it('keeps Tencent words out of the core import errors, and gives Tencent its own', () => {
  const id = '11111111-2222-3333-4444-555555555555';
  expect(new NotExternalKeyError(id).message).not.toMatch(/CreateKey|Type 2/);
  expect(toTencentError(new NotExternalKeyError(id), 'r').message).toBe(`CMK ${id} has material made by KMS (Origin KMS); only EXTERNAL keys (CreateKey Type 2) take imported material`);
  expect(new ImportTokenExpiredError().message).not.toMatch(/ImportToken|GetParametersForImport/);
  expect(toTencentError(new ImportTokenExpiredError(), 'r').message).toMatch(/^the ImportToken has expired/);
});

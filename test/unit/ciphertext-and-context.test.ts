import { InvalidCiphertextError, InvalidParameterError } from '../../src/common/domain-errors';
import { HEADER_BYTES, OVERHEAD, encodeBlob, encodeHeader, parseBlob } from '../../src/crypto/ciphertext-blob';
import { contextAad } from '../../src/crypto/encryption-context';
import { unflatten } from '../../src/api/tencent/params';

describe('ciphertext blob', () => {
  const keyId = '0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0';
  it('round-trips key id, version, IV and sealed data', () => {
    const header = encodeHeader(keyId, 7);
    expect(header).toHaveLength(HEADER_BYTES);
    const blob = encodeBlob(header, Buffer.alloc(12, 1), Buffer.alloc(20, 2));
    const p = parseBlob(blob);
    expect(p).toMatchObject({ keyId, keyVersion: 7 });
    expect(p.iv).toEqual(Buffer.alloc(12, 1));
    expect(p.sealed).toEqual(Buffer.alloc(20, 2));
    expect(blob.subarray(0, 3).toString('hex')).toBe('4b4d01');
  });
  it.each([
    ['too short', Buffer.alloc(OVERHEAD - 1)],
    ['wrong magic', Buffer.concat([Buffer.from('XX'), Buffer.alloc(OVERHEAD)])],
    ['unknown format version', Buffer.concat([Buffer.from('KM'), Buffer.from([9]), Buffer.alloc(OVERHEAD)])],
    ['key version 0', encodeBlob(encodeHeader(keyId, 0), Buffer.alloc(12), Buffer.alloc(16))],
  ])('refuses a blob that is %s', (_n, blob) => {
    expect(() => parseBlob(blob)).toThrow(InvalidCiphertextError);
  });
});

describe('encryption context', () => {
  it('is canonical: key order and whitespace do not matter, nested objects too', () => {
    expect(contextAad('{"b":"2","a":{"y":1,"x":[1,{"q":1,"p":2}]}}')).toEqual(contextAad(' { "a" : { "x" : [1, {"p":2,"q":1}], "y":1 }, "b":"2" } '));
    expect(contextAad('{"a":"1"}').toString()).toBe('{"a":"1"}');
  });
  it('treats absent, empty and {} alike', () => {
    expect(contextAad(undefined)).toHaveLength(0);
    expect(contextAad('')).toHaveLength(0);
    expect(contextAad('{}')).toHaveLength(0);
  });
  it.each(['not json', '[1,2]', 'null', '"s"', '1', `{"a":"${'x'.repeat(1100)}"}`])('refuses %s', (raw) => {
    expect(() => contextAad(raw)).toThrow(InvalidParameterError);
  });
});

describe('flat parameters', () => {
  it('turns dotted names into arrays and objects', () => {
    const o = unflatten(new Map([['KeyIds.0', 'a'], ['KeyIds.1', 'b'], ['Tags.0.TagKey', 'k'], ['Tags.0.TagValue', 'v'], ['Alias', 'x']]));
    expect(JSON.parse(JSON.stringify(o))).toEqual({ KeyIds: ['a', 'b'], Tags: [{ TagKey: 'k', TagValue: 'v' }], Alias: 'x' });
  });
  it.each([
    [[['__proto__.x', '1']]],
    [[['a..b', '1']]],
    [[['a.b.c.d.e', '1']]],
    [[['K', '1'], ['K.0', '2']]],
    [[['K.0', '2'], ['K', '1']]],
  ])('refuses %j', (pairs) => {
    expect(() => unflatten(new Map(pairs as Array<[string, string]>))).toThrow();
  });
  it('keeps a sparse list as an object (so it fails type checks later)', () => {
    expect(Array.isArray((unflatten(new Map([['K.1', 'x']])) as Record<string, unknown>).K)).toBe(false);
  });
});

import { InvalidCiphertextError, InvalidParameterError } from '../../src/common/domain-errors';
import { HEADER_BYTES, OVERHEAD, encodeBlob, encodeHeader, parseBlob } from '../../src/crypto/ciphertext-blob';
import { MAX_CONTEXT_CHARS, contextAad } from '../../src/crypto/encryption-context';
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
  it('is canonical: key order and whitespace do not matter', () => {
    expect(contextAad('{"b":"2","a":"1","n":12}')).toEqual(contextAad(' { "n" : 12 ,"a" :"1", "b":\t"2" } '));
    expect(contextAad('{"a":"1"}').toString()).toBe('{"a":"1"}');
  });
  // Made by the code before numbers kept their text (commit 6b04fb1): string-only contexts
  // must keep these exact bytes, or the ciphertexts sealed with them would no longer open.
  it.each([
    ['{"table":"orders"}', '7b227461626c65223a226f7264657273227d'],
    [' { "b" : "2" , "a" : "1" } ', '7b2261223a2231222c2262223a2232227d'],
    ['{"z":"last","A":"upper","a":"lower","10":"ten","9":"nine","":"empty"}', '7b22223a22656d707479222c223130223a2274656e222c2239223a226e696e65222c2241223a227570706572222c2261223a226c6f776572222c227a223a226c617374227d'],
    ['{"k\\u0041":"\\u00e9\\n\\"q\\"\\\\ \\/ \\ud83d\\ude00 \\u2028"}', '7b226b41223a22c3a95c6e5c22715c225c5c202f20f09f988020e280a8227d'],
    ['{"uni":"é😀","\\u007f":"del","ctl":"\\u0001\\t"}', '7b2263746c223a225c75303030315c74222c22756e69223a22c3a9f09f9880222c227f223a2264656c227d'],
    ['{"__proto__":"x","constructor":"y"}', '7b225f5f70726f746f5f5f223a2278222c22636f6e7374727563746f72223a2279227d'],
    ['{"lone":"\\ud800"}', '7b226c6f6e65223a225c7564383030227d'],
    ['{"n":42,"neg":-7,"t":true,"f":false,"z":null}', Buffer.from('{"f":false,"n":42,"neg":-7,"t":true,"z":null}').toString('hex')],
  ])('keeps the AAD of %s as earlier versions made it', (raw, hex) => {
    expect(contextAad(raw).toString('hex')).toBe(hex);
  });
  it('matches the earlier canonical form on random string-only contexts', () => {
    // The earlier code: JSON.parse, keys sorted, JSON.stringify.
    const earlier = (raw: string) => {
      const o = JSON.parse(raw) as Record<string, string>;
      return Buffer.from('{' + Object.keys(o).sort().map((k) => JSON.stringify(k) + ':' + JSON.stringify(o[k])).join(',') + '}');
    };
    const chars = ['a', 'Z', '0', ' ', '"', '\\', '/', '\n', '\u0001', '\u007f', 'é', '\u2028', '😀', '\ud800', '中'];
    const text = () => Array.from({ length: Math.floor(Math.random() * 6) }, () => chars[Math.floor(Math.random() * chars.length)]).join('');
    for (let n = 0; n < 2000; n++) {
      const o: Record<string, string> = {};
      for (let k = 1 + Math.floor(Math.random() * 5); k > 0; k--) o[text()] = text();
      const raw = Math.random() < 0.5 ? JSON.stringify(o) : JSON.stringify(o, null, 1);
      expect(contextAad(raw)).toEqual(earlier(raw));
    }
  });
  it('keeps numbers as sent, so contexts that differ as JSON text never share an AAD', () => {
    expect(contextAad('{"id":9007199254740993}')).not.toEqual(contextAad('{"id":9007199254740992}'));
    expect(contextAad('{"id":9007199254740993}').toString()).toBe('{"id":9007199254740993}');
    expect(contextAad('{"x":1.0}')).not.toEqual(contextAad('{"x":1}'));
    expect(contextAad('{"x":1e2, "y":-0.5E-3}').toString()).toBe('{"x":1e2,"y":-0.5E-3}');
    expect(contextAad('{"x":"1"}')).not.toEqual(contextAad('{"x":1}'));
  });
  it.each([
    ['{"a":"1","a":"2"}', 'more than once'],
    ['{"a":"1","\\u0061":"1"}', 'more than once'],
    ['{"a":{"b":"c"}}', 'is an object'],
    ['{"a":["b"]}', 'is an array'],
    ['{"a":"1","b":{}}', 'is an object'],
  ])('refuses %s as an invalid value', (raw, message) => {
    expect(() => contextAad(raw, 'SourceEncryptionContext')).toThrow(expect.objectContaining({ kind: 'value', field: 'SourceEncryptionContext', message: expect.stringContaining(message) }));
  });
  it('treats absent, empty and {} alike', () => {
    expect(contextAad(undefined)).toHaveLength(0);
    expect(contextAad('')).toHaveLength(0);
    expect(contextAad('{}')).toHaveLength(0);
  });
  it.each(['not json', '[1,2]', 'null', '"s"', '1', `{"a":"${'x'.repeat(MAX_CONTEXT_CHARS)}"}`])('refuses %s', (raw) => {
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

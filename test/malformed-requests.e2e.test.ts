import * as net from 'node:net';
import { Credential, KmsService } from './support/kms-service';
import { Answer, send, signTc3, signV1 } from './support/signer';
import { b64, kmsClient } from './support/tencent-client';

/**
 * Malformed requests: each must get a clear answer (HTTP 200 with a documented code, or a
 * bare 400 for bytes that are not HTTP), never a 5xx, a hang or a crash; and the service
 * must still work afterwards.
 */

let kms: KmsService;
let cred: Credential;
let keyId: string;
let blob: Buffer;

beforeAll(async () => {
  kms = await KmsService.start();
  cred = await kms.createAccount('malformed');
  const c = kmsClient(kms.endpoint, cred);
  keyId = (await c.CreateKey({ Alias: 'm' })).KeyId!;
  blob = Buffer.from((await c.Encrypt({ KeyId: keyId, Plaintext: b64('data') })).CiphertextBlob!, 'base64');
});
afterAll(() => kms.stop());

type Case = [name: string, make: () => { url: string; init: RequestInit }, expected: string | RegExp];

const E = () => kms.endpoint;
const tc3 = (action: string, body: string, extra: Partial<Parameters<typeof signTc3>[2]> = {}) => () => signTc3(E(), cred, { action, body, ...extra });
const json = (action: string, v: unknown) => tc3(action, JSON.stringify(v));
const v1 = (params: Record<string, string | number>, extra: Partial<Parameters<typeof signV1>[2]> = {}) => () => signV1(E(), cred, { params, ...extra });
const raw = (init: RequestInit, path = '/') => () => ({ url: `http://${E()}${path}`, init });
const withHeader = (make: () => { url: string; init: RequestInit }, name: string, value: string | null) => () => {
  const r = make();
  const h = { ...(r.init.headers as Record<string, string>) };
  if (value === null) delete h[name];
  else h[name] = value;
  return { url: r.url, init: { ...r.init, headers: h } };
};
const blobWith = (edit: (b: Buffer) => Buffer) => () => json('Decrypt', { CiphertextBlob: edit(Buffer.from(blob)).toString('base64') })();
const flip = (at: number) => (b: Buffer) => {
  b[at < 0 ? b.length + at : at] ^= 0x80;
  return b;
};

const IP = 'InvalidParameter';
const CT = 'InvalidParameterValue.InvalidCiphertext';
const SIG = 'AuthFailure.SignatureFailure';

const cases: Case[] = [
  ['empty POST without headers', raw({ method: 'POST' }), IP],
  ['JSON body without signature', raw({ method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{}' }), SIG],
  ['garbage Authorization', withHeader(json('GetRegions', {}), 'Authorization', 'Bearer abc'), SIG],
  ['unknown signature algorithm', withHeader(json('GetRegions', {}), 'Authorization', 'TC4-HMAC-SHA512 Credential=AKIDx/2020-01-01/kms/tc3_request, SignedHeaders=content-type;host, Signature=00'), SIG],
  ['signature of the wrong length', () => {
    const r = json('GetRegions', {})();
    const h = r.init.headers as Record<string, string>;
    h.Authorization = h.Authorization.replace(/Signature=[0-9a-f]+/, 'Signature=abcd');
    return r;
  }, SIG],
  ['SignedHeaders without host', () => {
    const r = json('GetRegions', {})();
    const h = r.init.headers as Record<string, string>;
    h.Authorization = h.Authorization.replace('SignedHeaders=content-type;host', 'SignedHeaders=content-type');
    return r;
  }, SIG],
  ['non-numeric X-TC-Timestamp', withHeader(json('GetRegions', {}), 'X-TC-Timestamp', 'yesterday'), IP],
  ['huge X-TC-Timestamp', withHeader(json('GetRegions', {}), 'X-TC-Timestamp', '99999999999999999999'), IP],
  ['missing X-TC-Timestamp', withHeader(json('GetRegions', {}), 'X-TC-Timestamp', null), 'MissingParameter'],
  ['missing X-TC-Version', withHeader(json('GetRegions', {}), 'X-TC-Version', null), 'MissingParameter'],
  ['empty X-TC-Action', withHeader(json('GetRegions', {}), 'X-TC-Action', ''), 'MissingParameter'],
  ['action with odd characters', json('Get/../Regions', {}), 'InvalidAction'],
  ['text/plain body with TC3', tc3('GetRegions', '{}', { contentType: 'text/plain' }), IP],
  ['multipart body', tc3('GetRegions', '--x--', { contentType: 'multipart/form-data; boundary=x' }), IP],
  ['body that is not JSON', tc3('GetRegions', '{"a":'), IP],
  ['body that is not JSON, under a wrong signature (not even parsed)', () => {
    const r = tc3('GetRegions', '{"a":')();
    const h = r.init.headers as Record<string, string>;
    h.Authorization = h.Authorization.replace(/Signature=[0-9a-f]{4}/, 'Signature=0000');
    return r;
  }, SIG],
  ['JSON array body', tc3('GetRegions', '[1,2]'), IP],
  ['JSON null body', tc3('GetRegions', 'null'), IP],
  ['JSON string body', tc3('GetRegions', '"x"'), IP],
  ['invalid UTF-8 in JSON', () => signTc3(E(), cred, { action: 'Encrypt', body: Buffer.concat([Buffer.from('{"KeyId":"'), Buffer.from([0xff, 0xfe]), Buffer.from('"}')]) }), /^(InvalidParameterValue.InvalidKeyId|MissingParameter)$/],
  ['deeply nested JSON', tc3('GetRegions', '['.repeat(100000) + ']'.repeat(100000)), IP],
  ['Plaintext as a number', json('Encrypt', { KeyId: 'x', Plaintext: 5 }), IP],
  ['Plaintext as an object', json('Encrypt', { KeyId: 'x', Plaintext: { a: 1 } }), IP],
  ['KeyId as an array', json('DescribeKey', { KeyId: ['a'] }), IP],
  ['KeyIds as a string', json('DescribeKeys', { KeyIds: 'a' }), IP],
  ['KeyIds with a number', json('DescribeKeys', { KeyIds: [1] }), IP],
  ['NumberOfBytes as a string in JSON', json('GenerateRandom', { NumberOfBytes: '16' }), IP],
  ['NumberOfBytes negative', json('GenerateRandom', { NumberOfBytes: -1 }), IP],
  ['NumberOfBytes fractional', json('GenerateRandom', { NumberOfBytes: 1.5 }), IP],
  ['NumberOfBytes beyond 2^53', json('GenerateRandom', { NumberOfBytes: 1e20 }), IP],
  ['Limit as a boolean', json('ListKeys', { Limit: true }), IP],
  ['Tags not a list', json('CreateKey', { Alias: 'tagsx', Tags: 'env=dev' }), IP],
  ['Tags entries not objects', json('CreateKey', { Alias: 'tagsy', Tags: ['env'] }), IP],
  ['51 tags', json('CreateKey', { Alias: 'tagsz', Tags: Array.from({ length: 51 }, (_, i) => ({ TagKey: `k${i}`, TagValue: 'v' })) }), IP],
  ['tag key over 127 characters', json('CreateKey', { Alias: 'tagsw', Tags: [{ TagKey: 'k'.repeat(128), TagValue: 'v' }] }), IP],
  ['EncryptionContext over 1024 characters', () => signTc3(E(), cred, { action: 'Encrypt', body: JSON.stringify({ KeyId: keyId, Plaintext: 'YQ==', EncryptionContext: JSON.stringify({ a: 'x'.repeat(1030) }) }) }), IP],
  ['EncryptionContext as an array', () => signTc3(E(), cred, { action: 'Encrypt', body: JSON.stringify({ KeyId: keyId, Plaintext: 'YQ==', EncryptionContext: '[1]' }) }), IP],
  ['EncryptionContext as an object, not a string', () => signTc3(E(), cred, { action: 'Encrypt', body: JSON.stringify({ KeyId: keyId, Plaintext: 'YQ==', EncryptionContext: { a: 1 } }) }), IP],
  ['empty CiphertextBlob', json('Decrypt', { CiphertextBlob: '' }), CT],
  ['CiphertextBlob with whitespace', json('Decrypt', { CiphertextBlob: 'YQ== ' }), CT],
  ['short CiphertextBlob', json('Decrypt', { CiphertextBlob: 'YWJj' }), CT],
  ['CiphertextBlob with a foreign magic', blobWith((b) => { b[0] = 0x41; return b; }), CT],
  ['CiphertextBlob of an unknown format version', blobWith((b) => { b[2] = 2; return b; }), CT],
  ['CiphertextBlob naming version 0', blobWith((b) => { b.writeUInt32BE(0, 19); return b; }), CT],
  ['CiphertextBlob naming version 99', blobWith((b) => { b.writeUInt32BE(99, 19); return b; }), CT],
  ['CiphertextBlob with a flipped IV bit', blobWith(flip(25)), CT],
  ['CiphertextBlob with a flipped ciphertext bit', blobWith(flip(36)), CT],
  ['CiphertextBlob with a flipped tag bit', blobWith(flip(-1)), CT],
  ['CiphertextBlob without its tag', blobWith((b) => b.subarray(0, b.length - 16)), CT],
  ['CiphertextBlob with bytes appended', blobWith((b) => Buffer.concat([b, Buffer.from('xx')])), CT],
  ['TC3 body over 10 MB', tc3('GetRegions', JSON.stringify({ pad: 'x'.repeat(10 * 1024 * 1024) })), IP],
  ['v1 form body over 1 MB', () => ({ url: `http://${E()}/`, init: { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: 'Action=GetRegions&pad=' + 'x'.repeat(1024 * 1024) } }), IP],
  ['GET over 32 KB', () => ({ url: `http://${E()}/?Action=GetRegions&pad=${'x'.repeat(33 * 1024)}`, init: { method: 'GET' } }), IP],
  ['v1 without Signature', () => ({ url: `http://${E()}/?Action=GetRegions&SecretId=${cred.SecretId}&Timestamp=${Math.floor(Date.now() / 1000)}&Nonce=1&Version=2019-01-18`, init: { method: 'GET' } }), 'MissingParameter'],
  ['v1 with a non-base64 Signature', () => {
    const r = v1({ Action: 'GetRegions' }, { method: 'GET' })();
    return { url: r.url.replace(/Signature=[^&]+/, 'Signature=%25%25%25'), init: r.init };
  }, SIG],
  ['v1 with broken percent-encoding', () => ({ url: `http://${E()}/?Action=%E0%A4%A&Signature=x`, init: { method: 'GET' } }), IP],
  ['v1 with a repeated parameter', () => ({ url: `http://${E()}/?Action=GetRegions&Action=ListKeys&Signature=x`, init: { method: 'GET' } }), IP],
  ['v1 with a __proto__ parameter', v1({ Action: 'GenerateRandom', NumberOfBytes: 4, '__proto__.polluted': 'yes' }), IP],
  ['v1 with a too deeply dotted name', v1({ Action: 'GenerateRandom', NumberOfBytes: 4, 'a.b.c.d.e': 'x' }), IP],
  ['v1 with a value that is also a list', v1({ Action: 'DescribeKeys', KeyIds: 'a', 'KeyIds.0': 'b' }), IP],
  ['v1 with a sparse list', v1({ Action: 'DescribeKeys', 'KeyIds.1': 'a' }), IP],
  ['v1 with a non-numeric Nonce', v1({ Action: 'GetRegions' }, { nonce: 'abc' }), IP],
  ['v1 with a negative Timestamp', () => ({ url: `http://${E()}/?Action=GetRegions&SecretId=${cred.SecretId}&Timestamp=-5&Nonce=1&Version=2019-01-18&Signature=x`, init: { method: 'GET' } }), IP],
  ['v1 with a non-numeric NumberOfBytes', v1({ Action: 'GenerateRandom', NumberOfBytes: 'ten' }), IP],
  ['v1 with a JSON content type but no TC3 header', () => ({ url: `http://${E()}/`, init: { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: 'Action=GetRegions' } }), SIG],
  ['v1 POST with parameters in the query too', () => {
    const r = v1({ Action: 'GetRegions' })();
    return { url: `${r.url}?Action=ListKeys`, init: r.init };
  }, IP],
  ['unknown content type', () => ({ url: `http://${E()}/`, init: { method: 'POST', headers: { 'Content-Type': 'image/png' }, body: 'x' } }), IP],
  ['HEAD request', raw({ method: 'HEAD' }), /.*/],
  ['OPTIONS request', raw({ method: 'OPTIONS' }), 'UnsupportedProtocol'],
  ['another path, unsigned', raw({ method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{}' }, '/v2/keys'), SIG],
  ['another path, signed for /', () => {
    const r = json('GetRegions', {})();
    return { url: r.url.replace(/\/$/, '/other'), init: r.init };
  }, SIG],
  ['undecodable path', raw({ method: 'POST' }, '/%zz'), IP],
  ['Alias of 61 characters', json('CreateKey', { Alias: 'a'.repeat(61) }), 'InvalidParameterValue.InvalidAlias'],
  ['unknown parameter', json('ListKeys', { Colour: 'red' }), 'UnknownParameter'],
  ['parameter with a null value is absent', json('ListKeys', { Limit: null }), /.*/],
];

describe('malformed requests', () => {
  it('has at least 50 cases', () => expect(cases.length).toBeGreaterThanOrEqual(50));

  it.each(cases)('%s', async (_name, make, expected) => {
    const a: Answer = await send(make());
    expect(a.status).toBeLessThan(500);
    expect(a.status).toBe(200);
    if (typeof expected === 'string') expect(a.code).toBe(expected);
    else if (a.code !== undefined) expect(a.code).toMatch(expected);
  });

  it('answers bytes that are not HTTP with 400 and closes', async () => {
    for (const garbage of ['HELLO\r\n\r\n', 'GET / HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n', '\x00\x01\x02\x03\r\n\r\n']) {
      const reply = await new Promise<string>((resolve, reject) => {
        const s = net.connect(kms.port, '127.0.0.1', () => s.write(garbage));
        let data = '';
        s.on('data', (d) => (data += d.toString()));
        s.on('close', () => resolve(data));
        s.on('error', reject);
        s.setTimeout(5000, () => s.destroy(new Error('no answer within 5 s')));
      });
      expect(reply).toMatch(/^HTTP\/1\.1 400/);
    }
  });

  it('keeps working after all of the above', async () => {
    const c = kmsClient(kms.endpoint, cred);
    const dec = await c.Decrypt({ CiphertextBlob: blob.toString('base64') });
    expect(Buffer.from(dec.Plaintext!, 'base64').toString()).toBe('data');
    expect(kms.logs).not.toMatch(/"level":"error"/);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});

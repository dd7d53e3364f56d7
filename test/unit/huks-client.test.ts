import * as http from 'node:http';
import * as https from 'node:https';
import { AddressInfo } from 'node:net';
import huks, { BusinessError, HuksOptions, HuksTag, HuksTagType } from '../../src/client/huks';
import { HUKS_SCHEME } from '../../src/api/huks/authenticator';
import { parseAuthorization, requestSignature } from '../../src/http/hmac-request-signature';
import { freePort } from '../support/kms-service';
import { TestPki } from '../support/test-pki';

/**
 * The client alone, against a recording HTTP server: argument errors are 401 and thrown before
 * any request, the settings and the service's answers turn into the seed's codes, and requests
 * are signed as docs/huks-protocol.md says (checked with the face's own verifier functions).
 */

interface Seen {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

type Reply = (req: http.IncomingMessage, res: http.ServerResponse) => void;

let seen: Seen[] = [];
let reply: Reply;
let server: http.Server;
let endpoint: string;

function listen(s: http.Server | https.Server): Promise<string> {
  return new Promise((resolve) => s.listen(0, '127.0.0.1', () => resolve(String((s.address() as AddressInfo).port))));
}

const record = (req: http.IncomingMessage, res: http.ServerResponse): void => {
  let body = '';
  req.on('data', (c: Buffer) => (body += c.toString()));
  req.on('end', () => {
    seen.push({ method: req.method!, url: req.url!, headers: req.headers, body });
    reply(req, res);
  });
};

const json = (status: number, value: unknown, headers: Record<string, string> = {}): Reply => (_req, res) => {
  res.writeHead(status, { 'Content-Type': 'application/json', ...headers });
  res.end(JSON.stringify(value));
};

const CRED = { secretId: 'AKIDhuksclienttest', secretKey: 'secret-key-of-the-test', region: 'ap-guangzhou' };
const ENV_NAMES = ['KMS_ENDPOINT', 'KMS_SECRET_ID', 'KMS_SECRET_KEY', 'KMS_REGION'];
const savedEnv = Object.fromEntries(ENV_NAMES.map((n) => [n, process.env[n]]));

beforeAll(async () => {
  for (const n of ENV_NAMES) delete process.env[n];
  server = http.createServer(record);
  endpoint = `http://127.0.0.1:${await listen(server)}`;
});
afterAll(async () => {
  for (const [n, v] of Object.entries(savedEnv)) if (v !== undefined) process.env[n] = v;
  await new Promise((r) => server.close(r));
});
beforeEach(() => {
  seen = [];
  reply = json(200, {});
  huks.configure({ endpoint, ...CRED });
});

/** What the call threw synchronously (undefined if it did not throw). */
function thrown(f: () => unknown): unknown {
  try {
    const p = f();
    if (p instanceof Promise) p.catch(() => undefined);
  } catch (e) {
    return e;
  }
  return undefined;
}

const ok: HuksOptions = { properties: [{ tag: HuksTag.HUKS_TAG_ALGORITHM, value: 20 }] };
const cb = (): void => undefined;
const MIB = 1024 * 1024;

/** Options that are not HuksOptions, each with why. */
const BAD_OPTIONS: Array<[string, unknown]> = [
  ['missing', undefined],
  ['null', null],
  ['a string', 'options'],
  ['an array', []],
  ['properties not an array', { properties: 'x' }],
  ['a null param', { properties: [null] }],
  ['a tag that is not a number', { properties: [{ tag: 'ALGORITHM', value: 20 }] }],
  ['a tag of no type', { properties: [{ tag: 7, value: 20 }] }],
  ['a tag of an unknown type', { properties: [{ tag: 0x70000001, value: 20 }] }],
  ['a UINT tag with a string', { properties: [{ tag: HuksTag.HUKS_TAG_ALGORITHM, value: 'AES' }] }],
  ['a UINT tag with a negative number', { properties: [{ tag: HuksTag.HUKS_TAG_KEY_SIZE, value: -128 }] }],
  ['a UINT tag with a fraction', { properties: [{ tag: HuksTag.HUKS_TAG_KEY_SIZE, value: 128.5 }] }],
  ['an INT tag beyond int32', { properties: [{ tag: HuksTagType.HUKS_TAG_TYPE_INT | 1, value: 2 ** 31 }] }],
  ['a ULONG tag with a number', { properties: [{ tag: HuksTagType.HUKS_TAG_TYPE_ULONG | 1, value: 1 }] }],
  ['a ULONG tag with a negative bigint', { properties: [{ tag: HuksTagType.HUKS_TAG_TYPE_ULONG | 1, value: -1n }] }],
  ['a BOOL tag with a number', { properties: [{ tag: HuksTagType.HUKS_TAG_TYPE_BOOL | 1, value: 1 }] }],
  ['a BYTES tag with an array', { properties: [{ tag: HuksTag.HUKS_TAG_NONCE, value: [1, 2, 3] }] }],
  ['inData a string', { inData: 'plaintext' }],
  ['inData a Buffer-like array', { inData: [1, 2, 3] }],
  ['inData over 1 MiB', { inData: new Uint8Array(MIB + 1) }],
];

const BAD_ALIASES: Array<[string, unknown]> = [
  ['missing', undefined],
  ['a number', 5],
  ['empty', ''],
  ['over 128 characters', 'k'.repeat(129)],
];

const BAD_HANDLES: Array<[string, unknown]> = [
  ['missing', undefined],
  ['a string', '1'],
  ['negative', -1],
  ['a fraction', 1.5],
  ['NaN', NaN],
  ['beyond 2^53', 2 ** 53],
];

const BAD_CALLBACKS: Array<[string, unknown]> = [
  ['a string', 'callback'],
  ['an object', {}],
  ['null', null],
];

type Call = (...a: unknown[]) => unknown;
const ALIAS_FNS: Array<[string, Call]> = [
  ['generateKeyItem', huks.generateKeyItem as Call],
  ['importKeyItem', huks.importKeyItem as Call],
  ['deleteKeyItem', huks.deleteKeyItem as Call],
  ['hasKeyItem', huks.hasKeyItem as Call],
  ['initSession', huks.initSession as Call],
];
const HANDLE_FNS: Array<[string, Call]> = [
  ['updateSession', huks.updateSession as Call],
  ['finishSession', huks.finishSession as Call],
  ['abortSession', huks.abortSession as Call],
];

function expect401(f: () => unknown): void {
  const e = thrown(f);
  expect(e).toBeInstanceOf(BusinessError);
  expect((e as BusinessError).code).toBe(401);
}

describe('argument errors: 401, thrown synchronously, and no request sent', () => {
  // A request sent by mistake would reach the recording server within this wait.
  afterEach(async () => {
    await new Promise((r) => setTimeout(r, 200));
    expect(seen).toEqual([]);
  });

  it.each(ALIAS_FNS)('%s: a bad keyAlias, options or callback, in both forms', (_name, fn) => {
    for (const [, alias] of BAD_ALIASES) {
      expect401(() => fn(alias, ok));
      expect401(() => fn(alias, ok, cb));
    }
    for (const [, options] of BAD_OPTIONS) {
      expect401(() => fn('alias', options));
      expect401(() => fn('alias', options, cb));
    }
    for (const [, callback] of BAD_CALLBACKS) expect401(() => fn('alias', ok, callback));
  });

  it.each(HANDLE_FNS)('%s: a bad handle, options or callback, in both forms', (_name, fn) => {
    for (const [, handle] of BAD_HANDLES) {
      expect401(() => fn(handle, ok));
      expect401(() => fn(handle, ok, cb));
    }
    for (const [, options] of BAD_OPTIONS) {
      expect401(() => fn(1, options));
      expect401(() => fn(1, options, cb));
    }
    for (const [, callback] of BAD_CALLBACKS) expect401(() => fn(1, ok, callback));
  });

  it.each(HANDLE_FNS.slice(0, 2))('%s: a token that is not a Uint8Array, and a token form without its callback', (_name, fn) => {
    expect401(() => fn(1, ok, 'token'));
    expect401(() => fn(1, ok, [1, 2]));
    expect401(() => fn(1, ok, new Uint8Array(4), 'callback'));
    expect401(() => fn(1, ok, 'token', cb));
  });

  it('says what is wrong', () => {
    const e = thrown(() => huks.initSession('alias', { properties: [{ tag: HuksTag.HUKS_TAG_NONCE, value: 'abc' as unknown as Uint8Array }] })) as BusinessError;
    expect(e.message).toBe(`argument is invalid. properties[0].value must be a Uint8Array for tag ${HuksTag.HUKS_TAG_NONCE}.`);
    expect(e.name).toBe('BusinessError');
  });

  it('is 401 even where nothing listens, which a request would have turned into 12000005', async () => {
    huks.configure({ endpoint: `http://127.0.0.1:${await freePort()}`, ...CRED });
    expect401(() => huks.generateKeyItem('', ok));
    await expect(huks.generateKeyItem('alias', ok)).rejects.toMatchObject({ code: 12000005 });
  });
});

describe('settings', () => {
  afterEach(() => {
    for (const n of ENV_NAMES) delete process.env[n];
  });

  it('refuses malformed settings with 401', () => {
    for (const bad of [null, 'x', { endpoint: 'ftp://h' }, { endpoint: 'not a url' }, { endpoint: 'http://h/?q=1' }, { endpoint: 'http://u:p@h' }, { secretId: '' }, { secretKey: 5 }, { region: {} }, { ca: 5 }, { ca: ['pem', 5] }]) {
      expect401(() => huks.configure(bad as never));
    }
  });

  it('answers 12000013 without a request when a setting is missing, and names it', async () => {
    huks.configure({ endpoint, secretId: CRED.secretId, region: CRED.region });
    await expect(huks.hasKeyItem('alias', {})).rejects.toMatchObject({ code: 12000013, message: expect.stringContaining('KMS_SECRET_KEY') });
    huks.configure({});
    const err = await new Promise<BusinessError | null>((resolve) => huks.hasKeyItem('alias', {}, (e) => resolve(e)));
    expect(err).toMatchObject({ code: 12000013, message: expect.stringContaining('KMS_ENDPOINT') });
    process.env.KMS_ENDPOINT = 'not a url';
    await expect(huks.hasKeyItem('alias', {})).rejects.toMatchObject({ code: 12000013, message: expect.stringContaining('KMS_ENDPOINT') });
    expect(seen).toEqual([]);
  });

  it('falls back to KMS_ENDPOINT, KMS_SECRET_ID, KMS_SECRET_KEY and KMS_REGION', async () => {
    huks.configure({});
    Object.assign(process.env, { KMS_ENDPOINT: endpoint, KMS_SECRET_ID: 'AKIDfromenv', KMS_SECRET_KEY: 'sk-from-env', KMS_REGION: 'ap-shanghai' });
    reply = json(200, { exists: true });
    await expect(huks.hasKeyItem('alias', {})).resolves.toBe(true);
    expect(seen[0].headers['x-kms-region']).toBe('ap-shanghai');
    expect(parseAuthorization(HUKS_SCHEME, seen[0].headers.authorization!)!.access).toBe('AKIDfromenv');
  });
});

describe('requests', () => {
  it('are POSTs of JSON to /huks/v1/<operation>, signed as the face verifies', async () => {
    const props: HuksOptions = {
      properties: [
        { tag: HuksTag.HUKS_TAG_ALGORITHM, value: 20 },
        { tag: HuksTag.HUKS_TAG_NONCE, value: new Uint8Array([1, 2, 3]) },
        { tag: HuksTagType.HUKS_TAG_TYPE_ULONG | 1, value: 18446744073709551615n },
        { tag: HuksTagType.HUKS_TAG_TYPE_BOOL | 1, value: true },
      ],
      inData: new Uint8Array(Buffer.from('data')),
    };
    reply = json(200, { handle: 42 });
    await huks.initSession('my-key', props);
    const [r] = seen;
    expect(r.method).toBe('POST');
    expect(r.url).toBe('/huks/v1/initSession');
    const body = JSON.parse(r.body);
    expect(body).toEqual({
      keyAlias: 'my-key',
      options: {
        properties: [
          { tag: HuksTag.HUKS_TAG_ALGORITHM, value: 20 },
          { tag: HuksTag.HUKS_TAG_NONCE, value: 'AQID' },
          { tag: HuksTagType.HUKS_TAG_TYPE_ULONG | 1, value: '18446744073709551615' },
          { tag: HuksTagType.HUKS_TAG_TYPE_BOOL | 1, value: true },
        ],
        inData: 'ZGF0YQ==',
      },
      nonce: expect.stringMatching(/^[0-9a-f]{32}$/),
    });
    const auth = parseAuthorization(HUKS_SCHEME, r.headers.authorization!)!;
    expect(auth.access).toBe(CRED.secretId);
    expect(auth.signedHeaders).toEqual(['content-type', 'host', 'x-kms-date', 'x-kms-region']);
    const signed = auth.signedHeaders.map((h): [string, string] => [h, String(r.headers[h])]);
    const hash = require('node:crypto').createHash('sha256').update(r.body).digest('hex');
    const expected = requestSignature(HUKS_SCHEME, CRED.secretKey, { method: 'POST', canonicalUri: '/huks/v1/initSession/', rawQuery: '', headers: signed, payloadHash: hash, date: String(r.headers['x-kms-date']) });
    expect(auth.signature.equals(expected)).toBe(true);
    expect(Math.abs(Date.parse(String(r.headers['x-kms-date']).replace(/^(\d{4})(\d\d)(\d\d)T(\d\d)(\d\d)(\d\d)Z$/, '$1-$2-$3T$4:$5:$6Z')) - Date.now())).toBeLessThan(5_000);
  });

  it('carry a fresh nonce each, so identical calls in one second never share a signature', async () => {
    await Promise.all([huks.generateKeyItem('k', ok), huks.generateKeyItem('k', ok)]);
    expect(JSON.parse(seen[0].body).nonce).not.toBe(JSON.parse(seen[1].body).nonce);
    expect(seen[0].headers.authorization).not.toBe(seen[1].headers.authorization);
  });

  it('go under a path the endpoint carries', async () => {
    huks.configure({ endpoint: `${endpoint}/kms`, ...CRED });
    await huks.deleteKeyItem('k', {});
    expect(seen[0].url).toBe('/kms/huks/v1/deleteKeyItem');
  });
});

describe('answers', () => {
  it('give each function its result, in both forms', async () => {
    const out = Buffer.from('cipher').toString('base64');
    const results: Record<string, unknown> = { generateKeyItem: {}, importKeyItem: {}, deleteKeyItem: {}, hasKeyItem: { exists: false }, initSession: { handle: 7 }, updateSession: { outData: out }, finishSession: { outData: out }, abortSession: {} };
    reply = (req, res) => json(200, results[req.url!.split('/').pop()!])(req, res);
    const want: Record<string, unknown> = { generateKeyItem: undefined, importKeyItem: undefined, deleteKeyItem: undefined, hasKeyItem: false, initSession: { handle: 7 }, updateSession: { outData: new Uint8Array(Buffer.from('cipher')) }, finishSession: { outData: new Uint8Array(Buffer.from('cipher')) }, abortSession: undefined };
    for (const [name, fn] of [...ALIAS_FNS, ...HANDLE_FNS]) {
      const first = name.endsWith('Session') && name !== 'initSession' ? 7 : 'alias';
      expect(await (fn(first, {}) as Promise<unknown>)).toEqual(want[name]);
      const viaCallback = await new Promise<[unknown, unknown]>((resolve) => fn(first, {}, (e: unknown, d: unknown) => resolve([e, d])));
      expect(viaCallback).toEqual([null, want[name]]);
    }
    // The token forms of update and finish.
    const token = new Uint8Array(8);
    expect(await huks.updateSession(7, {}, token)).toEqual(want.updateSession);
    expect(await new Promise((resolve) => huks.finishSession(7, {}, token, (e, d) => resolve([e, d])))).toEqual([null, want.finishSession]);
    expect(await huks.finishSession(7, {}, undefined)).toEqual(want.finishSession);
  });

  it('turn the service error body into a BusinessError with its code, reason and request id', async () => {
    reply = json(404, { error: { code: 12000011, message: 'No open session has this handle.', reason: 'SessionNotFound' }, requestId: 'r-1' }, { 'X-Request-Id': 'r-1' });
    const want = { code: 12000011, reason: 'SessionNotFound', requestId: 'r-1', message: 'queried entity does not exist. No open session has this handle.' };
    await expect(huks.updateSession(9, {})).rejects.toMatchObject(want);
    const err = await new Promise<BusinessError | null>((resolve) => huks.abortSession(9, {}, (e) => resolve(e)));
    expect(err).toBeInstanceOf(BusinessError);
    expect(err).toMatchObject(want);
  });

  it('answer 12000015 when the service answers something that is not the protocol', async () => {
    const cases: Array<[Reply, () => Promise<unknown>]> = [
      [(_q, s) => s.writeHead(502).end('Bad Gateway'), () => huks.generateKeyItem('k', ok)],
      [json(500, { error: { message: 'no code' } }), () => huks.generateKeyItem('k', ok)],
      [(_q, s) => s.writeHead(200).end('not json'), () => huks.generateKeyItem('k', ok)],
      [json(200, [1]), () => huks.generateKeyItem('k', ok)],
      [json(200, {}), () => huks.hasKeyItem('k', {})],
      [json(200, { handle: '7' }), () => huks.initSession('k', ok)],
      [json(200, { handle: 7, challenge: '***' }), () => huks.initSession('k', ok)],
      [json(200, { outData: 5 }), () => huks.finishSession(7, {})],
    ];
    for (const [r, call] of cases) {
      reply = r;
      await expect(call()).rejects.toMatchObject({ code: 12000015 });
    }
  });

  it('answer 12000005 when the connection breaks', async () => {
    reply = (_q, s) => s.socket!.destroy();
    await expect(huks.hasKeyItem('k', {})).rejects.toMatchObject({ code: 12000005 });
  });
});

describe('TLS', () => {
  let pki: TestPki;
  let tlsServer: https.Server;
  let tlsEndpoint: string;
  beforeAll(async () => {
    pki = new TestPki('huks-client-ca');
    const cert = pki.server('huks-client-server');
    tlsServer = https.createServer({ cert: cert.cert, key: cert.key }, record);
    tlsEndpoint = `https://127.0.0.1:${await listen(tlsServer)}`;
  });
  afterAll(async () => {
    await new Promise((r) => tlsServer.close(r));
    pki.remove();
  });

  it('trusts the service through `ca`, and refuses it without (12000005)', async () => {
    reply = json(200, { exists: true });
    huks.configure({ endpoint: tlsEndpoint, ...CRED });
    await expect(huks.hasKeyItem('k', {})).rejects.toMatchObject({ code: 12000005 });
    expect(seen).toEqual([]);
    huks.configure({ endpoint: tlsEndpoint, ...CRED, ca: pki.ca });
    await expect(huks.hasKeyItem('k', {})).resolves.toBe(true);
    huks.configure({ endpoint: tlsEndpoint, ...CRED, ca: [pki.ca.toString()] });
    await expect(huks.hasKeyItem('k', {})).resolves.toBe(true);
    expect(seen).toHaveLength(2);
  });
});

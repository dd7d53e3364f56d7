import * as http from 'node:http';
import * as net from 'node:net';
import { Credential, KmsService } from './support/kms-service';
import { peakRss, resetPeakRss, servicePid } from './support/service-process';
import { send, signTc3 } from './support/signer';
import { b64, codeOf, kmsClient } from './support/tencent-client';

/**
 * Bounded work before authentication: a TC3 request's Authorization header and credential
 * are checked before its body is read, bodies are capped (TC3 JSON 64 KiB, v1 form 192 KiB),
 * and what a refused request still sends is discarded without being buffered. One worker,
 * so that its memory is the service's.
 */

let kms: KmsService;
let cred: Credential;
let keyId: string;

beforeAll(async () => {
  kms = await KmsService.start({ env: { KMS_RATE_LIMITS: 'off' } });
  cred = await kms.createAccount('bounded');
  keyId = (await kmsClient(kms.endpoint, cred).CreateKey({ Alias: 'bounded' })).KeyId!;
});
afterAll(() => kms.stop());

const MB = 1024 * 1024;
const now = () => Math.floor(Date.now() / 1000);
const date = () => new Date().toISOString().slice(0, 10);
const UNKNOWN_ID = 'AKID' + 'u'.repeat(32);
const unknownAuth = () => `TC3-HMAC-SHA256 Credential=${UNKNOWN_ID}/${date()}/kms/tc3_request, SignedHeaders=content-type;host, Signature=${'0'.repeat(64)}`;
const tc3Head = (authorization: string, extra = '') =>
  `POST / HTTP/1.1\r\nHost: ${kms.endpoint}\r\nContent-Type: application/json\r\nX-TC-Action: Encrypt\r\nX-TC-Version: 2019-01-18\r\nX-TC-Region: ap-guangzhou\r\nX-TC-Timestamp: ${now()}\r\nAuthorization: ${authorization}\r\n${extra}`;

interface Exchange {
  status: number;
  headers: string;
  code?: string;
  /** ms from the first byte sent until the server closed the connection, if it did within `waitClose`. */
  closedAfter?: number;
}

/**
 * Writes `head` (and `body` if given) on a raw connection and reads one answer; fails if no
 * complete answer comes within `timeout` ms. With `waitClose`, then waits up to that long for
 * the server to close the connection.
 */
function exchange(head: string, o: { body?: Buffer | string; timeout?: number; waitClose?: number } = {}): Promise<Exchange> {
  return new Promise((resolve, reject) => {
    const start = Date.now();
    const s = net.connect(kms.port, '127.0.0.1');
    let buf = Buffer.alloc(0);
    let answer: Exchange | undefined;
    const timer = setTimeout(() => {
      s.destroy();
      if (answer) resolve(answer);
      else reject(new Error(`no answer within ${o.timeout ?? 3000} ms`));
    }, (o.timeout ?? 3000) + (o.waitClose ?? 0));
    s.on('error', () => undefined);
    s.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      const end = buf.indexOf('\r\n\r\n');
      if (answer || end < 0) return;
      const headers = buf.subarray(0, end).toString();
      const length = Number(/content-length: (\d+)/i.exec(headers)?.[1] ?? 0);
      if (buf.length < end + 4 + length) return;
      const body = buf.subarray(end + 4, end + 4 + length).toString();
      answer = { status: Number(headers.split(' ')[1]), headers, code: body ? JSON.parse(body).Response?.Error?.Code : undefined };
      if (!o.waitClose) {
        clearTimeout(timer);
        s.destroy();
        resolve(answer);
      }
    });
    s.on('close', () => {
      clearTimeout(timer);
      if (!answer) return reject(new Error('closed without an answer'));
      answer.closedAfter = Date.now() - start;
      resolve(answer);
    });
    s.write(head);
    if (o.body !== undefined) s.write(o.body);
  });
}

describe('before the body is read', () => {
  it.each([
    ['an unknown SecretId', () => tc3Head(unknownAuth(), 'Content-Length: 1000\r\n\r\n'), 'AuthFailure.SecretIdNotFound'],
    ['a malformed Authorization', () => tc3Head('TC3-HMAC-SHA256 nonsense', 'Content-Length: 1000\r\n\r\n'), 'AuthFailure.SignatureFailure'],
    ['an expired timestamp', () => tc3Head(unknownAuth(), 'Content-Length: 1000\r\n\r\n').replace(/X-TC-Timestamp: \d+/, `X-TC-Timestamp: ${now() - 900}`), 'AuthFailure.SignatureExpire'],
    ['a SecretId that is no API key id', () => tc3Head(unknownAuth().replace(UNKNOWN_ID, 'nope'), 'Content-Length: 1000\r\n\r\n'), 'AuthFailure.InvalidSecretId'],
    ['a chunked body and an unknown SecretId', () => tc3Head(unknownAuth(), 'Transfer-Encoding: chunked\r\n\r\n'), 'AuthFailure.SecretIdNotFound'],
  ])('answers %s at once, while the body has not come', async (_name, head, code) => {
    const a = await exchange(head());
    expect(a.status).toBe(200);
    expect(a.code).toBe(code);
  });

  it('refuses a declared TC3 body over 64 KiB from a known credential before reading it', async () => {
    const signed = signTc3(kms.endpoint, cred, { action: 'Encrypt', body: '{}' });
    const h = signed.init.headers as Record<string, string>;
    const head = `POST / HTTP/1.1\r\nHost: ${kms.endpoint}\r\n${Object.entries(h).map(([k, v]) => `${k}: ${v}\r\n`).join('')}Content-Length: ${64 * 1024 + 1}\r\n\r\n`;
    const a = await exchange(head);
    expect(a.code).toBe('InvalidParameter');
  });
});

describe('size limits', () => {
  const pad = (n: number) => JSON.stringify({ KeyId: keyId, Plaintext: b64('x'), Pad: 'p'.repeat(n) });

  it('refuses a signed TC3 body over 64 KiB with InvalidParameter, declared or chunked', async () => {
    const req = signTc3(kms.endpoint, cred, { action: 'Encrypt', body: pad(64 * 1024) });
    const a = await send(req);
    expect(a.code).toBe('InvalidParameter');
    expect(a.body.Error).toMatchObject({ Message: expect.stringMatching(/larger than the 64 KB/) });
    const chunked = await new Promise<string | undefined>((resolve, reject) => {
      const r = http.request(req.url, { method: 'POST', headers: req.init.headers as Record<string, string> }, (res) => {
        let t = '';
        res.on('data', (c) => (t += c));
        res.on('end', () => resolve(JSON.parse(t).Response.Error?.Code));
      });
      r.on('error', reject);
      const body = Buffer.from(req.init.body as string);
      for (let i = 0; i < body.length; i += 4096) r.write(body.subarray(i, i + 4096));
      r.end();
    });
    expect(chunked).toBe('InvalidParameter');
  });

  it('accepts the largest valid request (CreateKey with 50 tags of the longest non-ASCII keys and values) over TC3 and v1 POST', async () => {
    // 127 and 255 characters of 3 UTF-8 bytes each: about 60 KB of JSON, 177 KB percent-encoded.
    const tags = (n: number) => Array.from({ length: 50 }, (_, i) => ({ TagKey: String.fromCharCode(0x4e00 + n * 50 + i) + '键'.repeat(126), TagValue: '值'.repeat(255) }));
    const Description = '述'.repeat(341) + 'a';
    expect(await codeOf(kmsClient(kms.endpoint, cred).CreateKey({ Alias: 'big-tc3', Description, Tags: tags(0) }))).toBe('OK');
    expect(await codeOf(kmsClient(kms.endpoint, cred, { signMethod: 'HmacSHA256' }).CreateKey({ Alias: 'big-v1', Description, Tags: tags(1) }))).toBe('OK');
  });

  it('refuses a v1 POST over 192 KiB with InvalidParameter', async () => {
    const body = `Action=GetRegions&SecretId=${cred.SecretId}&Pad=${'p'.repeat(192 * 1024)}`;
    const a = await send({ url: `http://${kms.endpoint}/`, init: { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body } });
    expect(a.code).toBe('InvalidParameter');
    expect(a.body.Error).toMatchObject({ Message: expect.stringMatching(/larger than the 192 KB/) });
  });
});

describe('slow and oversized clients', () => {
  it('many concurrent unauthenticated 10 MB bodies, held open unfinished, are answered and leave the worker’s memory bounded', async () => {
    const pid = servicePid(kms.port);
    resetPeakRss(pid);
    const before = peakRss(pid);
    const body = Buffer.alloc(10 * MB, 'a');
    const open: http.ClientRequest[] = [];
    const one = (i: number) =>
      new Promise<string | undefined>((resolve) => {
        const headers: Record<string, string | number> = { 'Content-Type': 'application/json', 'X-TC-Action': 'Encrypt', 'X-TC-Version': '2019-01-18', 'X-TC-Timestamp': now(), Authorization: unknownAuth() };
        // Half declare their length, half are chunked; none ever finishes.
        if (i % 2 === 0) headers['Content-Length'] = body.length + 1;
        let code: string | undefined;
        let flushed = false;
        const settle = () => code !== undefined && flushed && resolve(code);
        const r = http.request({ host: '127.0.0.1', port: kms.port, method: 'POST', path: '/', headers, agent: new http.Agent({ keepAlive: true }) }, (res) => {
          let t = '';
          res.on('data', (c) => (t += c));
          res.on('end', () => {
            code = JSON.parse(t).Response.Error?.Code;
            settle();
          });
        });
        // Answered, then cut: the service closes a connection whose unread body it has not
        // discarded within 5 s (body-reader.ts), which a loaded machine's 300 MB can outlast.
        r.on('error', () => resolve(code ?? 'connection error'));
        setTimeout(() => resolve(code === undefined ? 'no answer' : 'body not taken'), 20_000).unref();
        // Resolved once the 10 MB are taken by the service (beyond a socket buffer) and answered.
        r.write(body, () => {
          flushed = true;
          settle();
        });
        open.push(r);
      });
    try {
      const codes = await Promise.all(Array.from({ length: 30 }, (_, i) => one(i)));
      expect(codes).toEqual(Array(30).fill('AuthFailure.SecretIdNotFound'));
      // Holding them would take 300 MB; what is left is the garbage of reading and dropping.
      expect(peakRss(pid) - before).toBeLessThan(100 * MB);
    } finally {
      for (const r of open) r.destroy();
    }
  }, 60_000);

  it('clients that dribble their bodies do not hold up other callers', async () => {
    const dribblers: net.Socket[] = [];
    const req = signTc3(kms.endpoint, cred, { action: 'Encrypt', body: JSON.stringify({ KeyId: keyId, Plaintext: b64('slow') }) });
    const headers = Object.entries(req.init.headers as Record<string, string>).map(([k, v]) => `${k}: ${v}\r\n`).join('');
    for (let i = 0; i < 20; i++) {
      const s = net.connect(kms.port, '127.0.0.1');
      s.on('error', () => undefined);
      s.write(`POST / HTTP/1.1\r\nHost: ${kms.endpoint}\r\n${headers}Content-Length: ${Buffer.byteLength(req.init.body as string)}\r\n\r\n`);
      dribblers.push(s);
    }
    const body = Buffer.from(req.init.body as string);
    let sent = 0;
    const drip = setInterval(() => {
      if (sent < body.length - 1) for (const s of dribblers) s.write(body.subarray(sent, sent + 1));
      sent++;
    }, 100);
    try {
      const c = kmsClient(kms.endpoint, cred);
      const started = Date.now();
      for (let i = 0; i < 30; i++) {
        const t = Date.now();
        expect(await codeOf(c.Encrypt({ KeyId: keyId, Plaintext: b64(`fast ${i}`) }))).toBe('OK');
        // A loaded CI machine may stall one call for a second on its own; the total bounds the rest.
        expect(Date.now() - t).toBeLessThan(3000);
      }
      expect(Date.now() - started).toBeLessThan(5000);
    } finally {
      clearInterval(drip);
      for (const s of dribblers) s.destroy();
    }
  });
});

describe('the connection after an early refusal', () => {
  it('carries the next request once the rest of the body is discarded', async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const post = (headers: Record<string, string | number>, body: string) =>
      new Promise<{ code?: string; reused: boolean }>((resolve, reject) => {
        const r = http.request({ host: '127.0.0.1', port: kms.port, method: 'POST', path: '/', headers: { ...headers, 'Content-Length': Buffer.byteLength(body) }, agent }, (res) => {
          let t = '';
          res.on('data', (c) => (t += c));
          res.on('end', () => resolve({ code: JSON.parse(t).Response.Error?.Code, reused: r.reusedSocket }));
        });
        r.on('error', reject);
        r.end(body);
      });
    try {
      const refused = await post({ 'Content-Type': 'application/json', 'X-TC-Action': 'Encrypt', 'X-TC-Version': '2019-01-18', 'X-TC-Timestamp': now(), Authorization: unknownAuth() }, JSON.stringify({ Pad: 'p'.repeat(200_000) }));
      expect(refused.code).toBe('AuthFailure.SecretIdNotFound');
      const req = signTc3(kms.endpoint, cred, { action: 'Encrypt', body: JSON.stringify({ KeyId: keyId, Plaintext: b64('next') }) });
      const next = await post(req.init.headers as Record<string, string>, req.init.body as string);
      expect(next).toEqual({ code: undefined, reused: true });
    } finally {
      agent.destroy();
    }
  });

  it('asked by the client to close, is answered once the rest is dropped (at most 5 s later), then closed', async () => {
    const full = await exchange(tc3Head(unknownAuth(), 'Connection: close\r\nContent-Length: 200000\r\n\r\n'), { body: Buffer.alloc(200_000, 'a'), waitClose: 3000 });
    expect(full.code).toBe('AuthFailure.SecretIdNotFound');
    expect(full.closedAfter).toBeLessThan(3000);
    const started = Date.now();
    const stalled = await exchange(tc3Head(unknownAuth(), 'Connection: close\r\nContent-Length: 1000\r\n\r\n'), { body: '{"Pad":"', timeout: 8000 });
    expect(stalled.code).toBe('AuthFailure.SecretIdNotFound');
    expect(Date.now() - started).toBeGreaterThan(4000);
  }, 20_000);

  it('is closed when the rest of the body does not come within 5 s', async () => {
    const a = await exchange(tc3Head(unknownAuth(), 'Content-Length: 1000\r\n\r\n'), { body: '{"Pad":"', waitClose: 8000 });
    expect(a.code).toBe('AuthFailure.SecretIdNotFound');
    expect(a.closedAfter).toBeGreaterThan(4000);
    expect(a.closedAfter).toBeLessThan(8000);
  }, 20_000);

  it('is closed after the answer when more than 16 MiB are still to come, declared or chunked', async () => {
    const declared = await exchange(tc3Head(unknownAuth(), `Content-Length: ${20 * MB}\r\n\r\n`), { waitClose: 3000 });
    expect(declared.code).toBe('AuthFailure.SecretIdNotFound');
    expect(declared.headers).toMatch(/connection: close/i);
    expect(declared.closedAfter).toBeLessThan(3000);
    const chunk = Buffer.concat([Buffer.from(`100000\r\n`), Buffer.alloc(MB, 'a'), Buffer.from('\r\n')]);
    const chunked = await exchange(tc3Head(unknownAuth(), 'Transfer-Encoding: chunked\r\n\r\n'), { body: Buffer.concat(Array(17).fill(chunk)), waitClose: 3000 });
    expect(chunked.code).toBe('AuthFailure.SecretIdNotFound');
    expect(chunked.closedAfter).toBeLessThan(3000);
  });
});

import * as net from 'node:net';
import { HEADERS_TIMEOUT_MS, REQUEST_TIMEOUT_MS } from '../src/http/listener';
import { Credential, KmsService } from './support/kms-service';
import { signTc3 } from './support/signer';
import { b64, kmsClient } from './support/tencent-client';

/**
 * Clients that hold connections: headers or a body dribbled byte by byte, connections that
 * send nothing, more connections than KMS_MAX_CONNECTIONS. Each is cut off, and the other
 * callers are served meanwhile.
 */

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface SlowClient {
  /** Milliseconds from connecting to the server closing the connection. */
  closedAfter: Promise<number>;
  received: () => string;
}

/** Connects, sends `head`, then one more `drip` every 500 ms until the server closes the connection. */
function slowClient(port: number, head: string, drip: string): SlowClient {
  const t0 = Date.now();
  const sock = net.connect(port, '127.0.0.1');
  let received = '';
  sock.on('data', (d) => (received += d));
  sock.on('error', () => undefined); // writes after the server closed
  if (head) sock.write(head);
  const timer = drip ? setInterval(() => sock.writable && sock.write(drip), 500) : undefined;
  const closedAfter = new Promise<number>((resolve) =>
    sock.on('close', () => {
      clearInterval(timer);
      resolve(Date.now() - t0);
    }),
  );
  return { closedAfter, received: () => received };
}

/** One HTTP/1.1 exchange on an open connection: resolves to the response, or null if the server closed it. */
function exchange(sock: net.Socket, request: string): Promise<string | null> {
  return new Promise((resolve) => {
    let text = '';
    const onData = (d: Buffer) => {
      text += d;
      const head = text.indexOf('\r\n\r\n');
      const length = /content-length: (\d+)/i.exec(text);
      if (head >= 0 && length && text.length >= head + 4 + Number(length[1])) done(text);
    };
    const onClose = () => done(text || null);
    const done = (v: string | null) => {
      sock.off('data', onData);
      sock.off('close', onClose);
      resolve(v);
    };
    sock.on('data', onData);
    sock.on('close', onClose);
    sock.on('error', () => undefined);
    if (!sock.destroyed) sock.write(request);
    else done(null);
  });
}

function connect(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1', () => resolve(s));
    s.on('error', reject);
  });
}

const HEALTH = 'GET /_kms/health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n';

describe('timeouts', () => {
  let kms: KmsService;
  let cred: Credential;

  beforeAll(async () => {
    kms = await KmsService.start({ env: { KMS_RATE_LIMITS: 'off' } });
    cred = await kms.createAccount('slow');
  });
  afterAll(() => kms.stop());

  it('cuts off slow headers, silent connections and slow bodies, serving others meanwhile', async () => {
    const headers = slowClient(kms.port, 'POST / HTTP/1.1\r\nHost: 127.0.0.1\r\n', 'X-Slow: 1\r\n');
    const silent = slowClient(kms.port, '', '');
    // A correctly signed request (so that the body is read), whose 60000-byte body comes a byte at a time.
    const signed = signTc3(kms.endpoint, cred, { action: 'GetRegions', body: ' '.repeat(60000) });
    const head = Object.entries(signed.init.headers as Record<string, string>).map(([k, v]) => `${k}: ${v}\r\n`).join('');
    const body = slowClient(kms.port, `POST / HTTP/1.1\r\nHost: 127.0.0.1\r\n${head}Content-Length: 60000\r\n\r\n`, ' ');

    const c = kmsClient(kms.endpoint, cred);
    const { KeyId } = await c.CreateKey({ Alias: 'slow' });
    const served: number[] = [];
    const stopAt = Date.now() + HEADERS_TIMEOUT_MS + 1000;
    while (Date.now() < stopAt) {
      const t0 = Date.now();
      await c.Encrypt({ KeyId: KeyId!, Plaintext: b64('meanwhile') });
      served.push(Date.now() - t0);
      await sleep(200);
    }
    expect(served.length).toBeGreaterThan(20);
    // Blocked, they would wait for the dribbler's timeout (10 s); a loaded CI machine may stall
    // one for a second on its own.
    const sorted = [...served].sort((x, y) => x - y);
    expect(sorted[Math.floor(sorted.length * 0.9)]).toBeLessThan(1000);
    expect(sorted[sorted.length - 1]).toBeLessThan(3000);

    // Headers: HEADERS_TIMEOUT_MS (10 s), enforced within a second.
    for (const client of [headers, silent]) {
      const ms = await client.closedAfter;
      expect(ms).toBeGreaterThanOrEqual(HEADERS_TIMEOUT_MS - 100);
      expect(ms).toBeLessThan(HEADERS_TIMEOUT_MS + 2500);
      expect(client.received()).toMatch(/^HTTP\/1\.1 408 Request Timeout\r\n/);
    }
    // A whole request: REQUEST_TIMEOUT_MS (30 s).
    const ms = await body.closedAfter;
    expect(ms).toBeGreaterThanOrEqual(REQUEST_TIMEOUT_MS - 100);
    expect(ms).toBeLessThan(REQUEST_TIMEOUT_MS + 2500);
    expect(body.received()).not.toMatch(/"Response"/);
    expect((await c.Encrypt({ KeyId: KeyId!, Plaintext: b64('after') })).CiphertextBlob).toBeTruthy();
  }, REQUEST_TIMEOUT_MS + 20_000);
});

describe('KMS_MAX_CONNECTIONS', () => {
  let kms: KmsService;

  beforeAll(async () => {
    kms = await KmsService.start({ env: { KMS_MAX_CONNECTIONS: '2' } });
    // The start-up health checks' own connections are gone by now.
    await sleep(300);
  });
  afterAll(() => kms.stop());

  it('refuses the connection beyond the limit while serving the open ones, and accepts again once one closes', async () => {
    const a = await connect(kms.port);
    const b = await connect(kms.port);
    expect(await exchange(a, HEALTH)).toMatch(/^HTTP\/1\.1 200/);
    expect(await exchange(b, HEALTH)).toMatch(/^HTTP\/1\.1 200/);

    // The third is accepted by the kernel and closed at once, unanswered.
    const third = await connect(kms.port);
    expect(await exchange(third, HEALTH)).toBeNull();

    // The two open ones are still served.
    expect(await exchange(a, HEALTH)).toMatch(/^HTTP\/1\.1 200/);
    expect(await exchange(b, HEALTH)).toMatch(/^HTTP\/1\.1 200/);

    a.destroy();
    await sleep(300);
    const next = await connect(kms.port);
    expect(await exchange(next, HEALTH)).toMatch(/^HTTP\/1\.1 200/);
    b.destroy();
    next.destroy();
  });
});

import * as fs from 'node:fs';
import * as https from 'node:https';
import * as path from 'node:path';
import * as tls from 'node:tls';
import { Credential, KmsService, healthStatus, runToExit } from './support/kms-service';
import { b64, kmsClient } from './support/tencent-client';
import { IssuedCert, TestPki } from './support/test-pki';
import { msUntil } from './support/wait';

/**
 * HTTPS (KMS_TLS_CERT_FILE / KMS_TLS_KEY_FILE), mutual TLS (KMS_TLS_CLIENT_CA_FILE), TLS 1.2
 * as the oldest version, certificate reload on SIGHUP, and no plain HTTP beyond the loopback
 * unless KMS_ALLOW_PLAINTEXT_HTTP=1. The CAs and certificates are made by openssl here.
 */

let pki: TestPki;

beforeAll(() => {
  pki = new TestPki();
});
afterAll(() => pki.remove());

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The serial number of the certificate a new TLS connection is served. */
function servedSerial(endpoint: string, extra: tls.ConnectionOptions = {}): Promise<string> {
  const [host, port] = endpoint.split(':');
  return new Promise((resolve, reject) => {
    const s = tls.connect({ host, port: Number(port), ca: pki.ca, ...extra }, () => {
      resolve(s.getPeerCertificate().serialNumber);
      s.end();
    });
    s.on('error', reject);
  });
}

/** Copies a certificate and its key to the files the service reads. */
function install(c: IssuedCert, certFile: string, keyFile: string): void {
  fs.copyFileSync(c.certFile, certFile);
  fs.copyFileSync(c.keyFile, keyFile);
}

describe('over HTTPS', () => {
  let kms: KmsService;
  let cred: Credential;
  let certFile: string;
  let keyFile: string;
  let first: IssuedCert;
  const agent = () => new https.Agent({ ca: pki.ca });

  beforeAll(async () => {
    first = pki.server('kms-first');
    certFile = path.join(pki.dir, 'served.crt');
    keyFile = path.join(pki.dir, 'served.key');
    install(first, certFile, keyFile);
    kms = await KmsService.start({ workers: 2, env: { KMS_TLS_CERT_FILE: certFile, KMS_TLS_KEY_FILE: keyFile, KMS_LOG_LEVEL: 'info' }, tls: { ca: pki.ca } });
    cred = await kms.createAccount('tls');
  });
  afterAll(() => kms.stop());

  it('serves the official SDK over https:// and nothing over plain HTTP', async () => {
    const c = kmsClient(kms.endpoint, cred, { agent: agent() });
    const { KeyId } = await c.CreateKey({ Alias: 'over-tls' });
    const enc = await c.Encrypt({ KeyId: KeyId!, Plaintext: b64('card 4111') });
    expect(Buffer.from((await c.Decrypt({ CiphertextBlob: enc.CiphertextBlob! })).Plaintext!, 'base64').toString()).toBe('card 4111');
    // v1 signatures too (they sign the host with its port).
    expect((await kmsClient(kms.endpoint, cred, { agent: agent(), signMethod: 'HmacSHA256', reqMethod: 'GET' }).DescribeKey({ KeyId: KeyId! })).KeyMetadata!.Alias).toBe('over-tls');
    // A client that does not trust the CA is refused by its own TLS check.
    await expect(kmsClient(kms.endpoint, cred, { agent: new https.Agent() }).GetRegions()).rejects.toThrow(/self-signed|unable to verify|certificate/i);
    // Plain HTTP on the same port gets no answer.
    await expect(healthStatus(kms.endpoint)).rejects.toThrow();
    expect(kms.logs).toContain(`"url":"https://127.0.0.1:${kms.port}/"`);
  });

  it('refuses TLS 1.1 and older, and accepts TLS 1.2', async () => {
    // SECLEVEL=0 lets this client offer TLS 1.1 at all; the refusal must come from the server.
    const old = servedSerial(kms.endpoint, { minVersion: 'TLSv1', maxVersion: 'TLSv1.1', ciphers: 'DEFAULT@SECLEVEL=0' });
    await expect(old).rejects.toMatchObject({ code: 'ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION' });
    expect(await servedSerial(kms.endpoint, { minVersion: 'TLSv1.2', maxVersion: 'TLSv1.2' })).toBe(first.serial);
  });

  it('reloads the certificate on SIGHUP in every worker, keeping open connections, and keeps it when the new files are bad', async () => {
    const keepAlive = new https.Agent({ ca: pki.ca, keepAlive: true, maxSockets: 1 });
    const get = () =>
      new Promise<{ status: number; socket: tls.TLSSocket }>((resolve, reject) => {
        https
          .get({ host: '127.0.0.1', port: kms.port, path: '/_kms/health', agent: keepAlive }, (res) => {
            const socket = res.socket as tls.TLSSocket;
            res.resume();
            res.on('end', () => resolve({ status: res.statusCode!, socket }));
          })
          .on('error', reject);
      });
    const before = await get();
    expect(before.socket.getPeerCertificate().serialNumber).toBe(first.serial);

    const second = pki.server('kms-second');
    install(second, certFile, keyFile);
    process.kill(kms.pid, 'SIGHUP');
    // Every worker serves the new certificate: six new connections reach both (round robin).
    const until = Date.now() + 10_000;
    let serials: string[] = [];
    while (Date.now() < until) {
      serials = [];
      for (let i = 0; i < 6; i++) serials.push(await servedSerial(kms.endpoint));
      if (serials.every((s) => s === second.serial)) break;
      await sleep(200);
    }
    expect(serials).toEqual(Array(6).fill(second.serial));
    expect(kms.logs.match(/TLS certificate and key reloaded/g)).toHaveLength(2);

    // The connection opened before the reload is still the same one, and still served.
    const after = await get();
    expect(after.status).toBe(200);
    expect(after.socket).toBe(before.socket);
    expect(after.socket.getPeerCertificate().serialNumber).toBe(first.serial);
    keepAlive.destroy();

    // A key that does not match the certificate: logged, and the current pair stays.
    fs.copyFileSync(pki.server('kms-stray').keyFile, keyFile);
    process.kill(kms.pid, 'SIGHUP');
    const deadline = Date.now() + 10_000;
    while ((kms.logs.match(/TLS files not reloaded/g) ?? []).length < 2 && Date.now() < deadline) await sleep(100);
    expect(kms.logs.match(/TLS files not reloaded/g)).toHaveLength(2);
    expect(kms.logs).toMatch(/key values mismatch/);
    for (let i = 0; i < 4; i++) expect(await servedSerial(kms.endpoint)).toBe(second.serial);
    // Both workers still use the token: a SIGHUP is not a shutdown.
    const c = kmsClient(kms.endpoint, cred, { agent: agent() });
    const { KeyId } = await c.CreateKey({ Alias: 'after-sighup' });
    for (let i = 0; i < 4; i++) expect((await kmsClient(kms.endpoint, cred, { agent: agent() }).Encrypt({ KeyId: KeyId!, Plaintext: b64('x') })).CiphertextBlob).toBeTruthy();
    expect(kms.logs).not.toMatch(/worker exited/);
  });
});

describe('mutual TLS', () => {
  let kms: KmsService;
  let cred: Credential;
  let clients: TestPki;
  let client: IssuedCert;

  beforeAll(async () => {
    clients = new TestPki('kms-client-ca');
    client = clients.client('tenant-app');
    const server = pki.server('kms-mtls');
    kms = await KmsService.start({
      env: { KMS_TLS_CERT_FILE: server.certFile, KMS_TLS_KEY_FILE: server.keyFile, KMS_TLS_CLIENT_CA_FILE: clients.caFile },
      tls: { ca: pki.ca, cert: client.cert, key: client.key },
    });
    cred = await kms.createAccount('mtls');
  });
  afterAll(async () => {
    await kms.stop();
    clients.remove();
  });

  it('requires a client certificate signed by KMS_TLS_CLIENT_CA_FILE', async () => {
    const withCert = kmsClient(kms.endpoint, cred, { agent: new https.Agent({ ca: pki.ca, cert: client.cert, key: client.key }) });
    expect((await withCert.GetRegions()).Regions).toContain('ap-guangzhou');

    const without = kmsClient(kms.endpoint, cred, { agent: new https.Agent({ ca: pki.ca }) });
    await expect(without.GetRegions()).rejects.toThrow(/certificate required|socket hang up|ECONNRESET/i);
    await expect(healthStatus(kms.endpoint, { ca: pki.ca })).rejects.toThrow();
    // A certificate from another CA (the server's) is refused as well.
    const stranger = pki.client('stranger');
    await expect(healthStatus(kms.endpoint, { ca: pki.ca, cert: stranger.cert, key: stranger.key })).rejects.toThrow();
    expect(await healthStatus(kms.endpoint, { ca: pki.ca, cert: client.cert, key: client.key })).toBe(200);
  });
});

describe('start-up', () => {
  it('refuses plain HTTP on a non-loopback address, with a clear message', async () => {
    const r = await runToExit({ KMS_HOST: '0.0.0.0' });
    expect(r.code).toBe(1);
    expect(r.text).toMatch(/refusing to serve plain HTTP on 0\.0\.0\.0 .*KMS_TLS_CERT_FILE.*KMS_ALLOW_PLAINTEXT_HTTP=1/);
    expect((await runToExit({ KMS_HOST: '::' })).text).toMatch(/refusing to serve plain HTTP on ::/);
  });

  it('serves plain HTTP beyond the loopback with KMS_ALLOW_PLAINTEXT_HTTP=1, warning loudly; a SIGHUP there reloads nothing and stops nothing', async () => {
    const kms = await KmsService.start({ env: { KMS_HOST: '0.0.0.0', KMS_ALLOW_PLAINTEXT_HTTP: '1', KMS_LOG_LEVEL: 'info' } });
    try {
      expect(kms.logs).toMatch(/"level":"warn".*PLAIN HTTP ON 0\.0\.0\.0 \(KMS_ALLOW_PLAINTEXT_HTTP=1\)/);
      const c = kmsClient(kms.endpoint, await kms.createAccount('plain'));
      expect((await c.GetRegions()).Regions).toContain('ap-guangzhou');
      process.kill(kms.pid, 'SIGHUP');
      expect(await msUntil(async () => kms.logs.includes('SIGHUP: no TLS files to reload (plain HTTP)'), 5000)).toBeLessThan(Infinity);
      expect((await c.GetRegions()).Regions).toContain('ap-guangzhou');
    } finally {
      await kms.stop();
    }
  });

  it('stops with a clear error on TLS files that cannot be read or used', async () => {
    const good = pki.server('kms-start');
    const garbage = path.join(pki.dir, 'garbage.pem');
    fs.writeFileSync(garbage, 'not a certificate\n');
    const cases: [Record<string, string>, RegExp][] = [
      [{ KMS_TLS_CERT_FILE: path.join(pki.dir, 'missing.crt'), KMS_TLS_KEY_FILE: good.keyFile }, /cannot read KMS_TLS_CERT_FILE .*missing\.crt: ENOENT/],
      [{ KMS_TLS_CERT_FILE: good.certFile, KMS_TLS_KEY_FILE: garbage }, /KMS_TLS_KEY_FILE .*garbage\.pem is not a PEM file/],
      [{ KMS_TLS_CERT_FILE: good.certFile, KMS_TLS_KEY_FILE: pki.server('kms-other').keyFile }, /do not make a usable certificate and key: .*key values mismatch/],
      [{ KMS_TLS_CERT_FILE: good.certFile, KMS_TLS_KEY_FILE: good.keyFile, KMS_TLS_CLIENT_CA_FILE: good.keyFile }, /KMS_TLS_CLIENT_CA_FILE .* holds no usable certificate/],
    ];
    for (const [env, message] of cases) {
      const r = await runToExit(env);
      expect(r.code).toBe(1);
      expect(r.text).toMatch(message);
      expect(r.text).not.toContain('PRIVATE KEY');
    }
    const half = await runToExit({ KMS_TLS_CERT_FILE: good.certFile });
    expect(half.code).toBe(2);
    expect(half.text).toMatch(/KMS_TLS_CERT_FILE and KMS_TLS_KEY_FILE must be set together/);
  });
});

import * as net from 'node:net';
import { KmsService } from './support/kms-service';
import { kmsClient } from './support/tencent-client';

/**
 * Clients that announce a body and go away, or send bytes that are not HTTP, are the
 * client's error: the service logs them at debug level at most (never as an internal
 * error, never at warn or error), and goes on serving.
 */

let kms: KmsService;
let secretId: string;
let client: ReturnType<typeof kmsClient>;
beforeAll(async () => {
  kms = await KmsService.start({ env: { KMS_LOG_LEVEL: 'info' } });
  const cred = await kms.createAccount('aborts');
  secretId = cred.SecretId;
  client = kmsClient(kms.endpoint, cred);
});
afterAll(() => kms.stop());

/** Sends `head` and part of a body, then drops the connection without reading an answer. */
function sendAndAbort(head: string, partial: string): Promise<void> {
  return new Promise((resolve) => {
    const s = net.connect(kms.port, '127.0.0.1', () => {
      s.write(head + partial);
      setTimeout(() => {
        s.destroy();
        resolve();
      }, 100);
    });
    s.on('error', () => resolve());
  });
}

const now = () => Math.floor(Date.now() / 1000);
const day = () => new Date().toISOString().slice(0, 10);

it('logs announced-then-abandoned bodies and non-HTTP bytes at debug level only', async () => {
  const logStart = kms.logs.length;
  const host = `Host: ${kms.endpoint}\r\n`;
  for (let i = 0; i < 5; i++) {
    // No credentials at all.
    await sendAndAbort(`POST / HTTP/1.1\r\n${host}Content-Type: application/json\r\nContent-Length: 100000\r\nX-TC-Action: DescribeKey\r\n\r\n`, '{"KeyId":');
    // A known SecretId: the body is being read when the client goes.
    const auth = `TC3-HMAC-SHA256 Credential=${secretId}/${day()}/kms/tc3_request, SignedHeaders=content-type;host, Signature=${'0'.repeat(64)}`;
    await sendAndAbort(`POST / HTTP/1.1\r\n${host}Content-Type: application/json\r\nContent-Length: 50000\r\nAuthorization: ${auth}\r\nX-TC-Action: DescribeKey\r\nX-TC-Timestamp: ${now()}\r\nX-TC-Version: 2019-01-18\r\nX-TC-Region: ap-guangzhou\r\n\r\n`, '{"KeyId":"');
    // A v1 form, read before authentication.
    await sendAndAbort(`POST / HTTP/1.1\r\n${host}Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 90000\r\n\r\n`, 'Action=DescribeKey&SecretId=');
    // Bytes that are not HTTP.
    await sendAndAbort('\x16\x03\x01\x00\xa5garbage\r\n\r\n', '');
  }
  await new Promise((r) => setTimeout(r, 300));
  const lines = kms.logs.slice(logStart).split('\n').filter((l) => l.startsWith('{'));
  expect(lines.filter((l) => /"level":"(error|warn)"/.test(l))).toEqual([]);
  expect(kms.logs.slice(logStart)).not.toContain('internal error');
  // Still serving.
  expect((await client.GenerateRandom({ NumberOfBytes: 8 })).Plaintext).toBeTruthy();
});

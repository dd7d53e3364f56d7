import { execFile } from 'node:child_process';
import * as path from 'node:path';
import { promisify } from 'node:util';

/**
 * The built service's configuration check (every bad variable named in one start) and its
 * log lines (pino: the same JSON fields as before, secrets redacted). No service is started.
 */

const ROOT = path.resolve(__dirname, '..');
const BIN = path.join(ROOT, 'bin', 'kms.js');
const run = promisify(execFile);

async function exitOf(args: string[], env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const r = await run(process.execPath, args, { env: { ...process.env, ...env }, timeout: 20_000 });
    return { code: 0, ...r };
  } catch (e) {
    const x = e as { code: number; stdout: string; stderr: string };
    return { code: x.code, stdout: x.stdout, stderr: x.stderr };
  }
}

it('names every bad variable in one start and exits with code 2', async () => {
  const bad = { KMS_PORT: 'eighty', KMS_WORKERS: '0', KMS_AUDIT: 'sometimes', KMS_METRICS_ALLOW: '10.0.0.0/33', KMS_TLS_CERT_FILE: '/nowhere/tls.crt', KMS_LOG_LEVEL: 'loud', KMS_DATABASE_POOL: '0' };
  const r = await exitOf([BIN, 'serve'], bad);
  expect(r.code).toBe(2);
  expect(r.stderr).toMatch(/7 problems in the configuration/);
  for (const name of Object.keys(bad)) expect(r.stderr).toContain(name);
  expect(r.stderr).toMatch(/KMS_PORT must be an integer, got "eighty"/);
  expect(r.stderr).toMatch(/KMS_WORKERS must be between 1 and 64, got 0/);
  expect(r.stderr).toMatch(/KMS_DATABASE_POOL must be between 1 and 1000, got 0/);
  expect(r.stderr).toMatch(/KMS_METRICS_ALLOW: "10.0.0.0\/33": the prefix length must be 0..32/);
  expect(r.stderr).toMatch(/KMS_TLS_CERT_FILE and KMS_TLS_KEY_FILE must be set together/);
});

it('writes one JSON line per entry with t, level, pid, msg and the fields, secrets redacted', async () => {
  const script = `
    const { Log } = require(${JSON.stringify(path.join(ROOT, 'dist/src/common/logger.js'))});
    Log.configure({ logLevel: 'info' });
    Log.info('signed request', { keyId: 'k-1', secretKey: 'sk-VALUE', SecretKey: 'SK-VALUE', headers: { authorization: 'TC3-HMAC-SHA256 Credential=AKID/x', host: 'h' } });
    Log.warn('token call', { pin: '123456', Plaintext: 'cGxhaW4=', plaintext: 'plain', request: { Plaintext: 'nested' } });
    Log.debug('not at info');
    Log.error('done', { count: 2 });`;
  const r = await exitOf(['-e', script], {});
  expect(r.code).toBe(0);
  const lines = r.stderr.trim().split('\n');
  expect(lines).toHaveLength(3);
  const [signed, token, done] = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
  expect(Object.keys(signed).slice(0, 4).sort()).toEqual(['level', 'msg', 'pid', 't']);
  expect(signed).toMatchObject({ level: 'info', msg: 'signed request', keyId: 'k-1', secretKey: '[redacted]', SecretKey: '[redacted]', headers: { authorization: '[redacted]', host: 'h' } });
  expect(new Date(signed.t as string).toISOString()).toBe(signed.t);
  expect(typeof signed.pid).toBe('number');
  expect(token).toMatchObject({ level: 'warn', pin: '[redacted]', Plaintext: '[redacted]', plaintext: '[redacted]', request: { Plaintext: '[redacted]' } });
  expect(done).toMatchObject({ level: 'error', msg: 'done', count: 2 });
  // Field order as before: tests and log shippers match `"msg":"...","field":...`.
  expect(lines[2]).toContain('"msg":"done","count":2');
  for (const secret of ['sk-VALUE', 'SK-VALUE', 'AKID', '123456', 'cGxhaW4=', 'nested']) expect(r.stderr).not.toContain(secret);
});

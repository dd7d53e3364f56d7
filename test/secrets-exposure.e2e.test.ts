import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import { KmsService } from './support/kms-service';
import { b64, kmsClient } from './support/tencent-client';

/**
 * What other local users and unauthenticated callers can see: KMS_HSM_PIN is in no process's
 * /proc/PID/environ once the service has started (the workers get it over IPC), and
 * /_kms/health answers only up or down.
 */

const SOFTHSM = ['/usr/lib/softhsm/libsofthsm2.so', '/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so'].find((p) => fs.existsSync(p))!;
const PIN = 'pin-in-the-environment-7f3a9c';
let dir: string;
let kms: KmsService;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kms-pin-env-'));
  const conf = path.join(dir, 'softhsm2.conf');
  fs.mkdirSync(path.join(dir, 'tokens'));
  fs.writeFileSync(conf, `directories.tokendir = ${dir}/tokens\nobjectstore.backend = file\nlog.level = ERROR\n`);
  execFileSync('softhsm2-util', ['--init-token', '--free', '--label', 'pin-env', '--so-pin', 'so-pin-1', '--pin', PIN], { env: { ...process.env, SOFTHSM2_CONF: conf } });
  // No pinFile in the profile: the PIN comes from KMS_HSM_PIN only.
  const profile = path.join(dir, 'profile.json');
  fs.writeFileSync(profile, JSON.stringify({ module: SOFTHSM, token: { label: 'pin-env' }, maxSessions: 4, env: { SOFTHSM2_CONF: conf } }));
  kms = await KmsService.start({ workers: 2, env: { KMS_HSM_PROFILE: profile, KMS_HSM_PIN: PIN, KMS_HSM_SO_PIN: 'so-pin-1', KMS_LOG_LEVEL: 'info' } });
  // Both workers have logged in and listen.
  const until = Date.now() + 20_000;
  while ((kms.logs.match(/"msg":"listening"/g) ?? []).length < 2 && Date.now() < until) await new Promise((r) => setTimeout(r, 100));
});
afterAll(async () => {
  await kms.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

it('keeps KMS_HSM_PIN out of every process environment, and still serves with two workers', async () => {
  expect(kms.logs.match(/"msg":"listening"/g)).toHaveLength(2);
  const pids = kms.processIds();
  expect(pids).toHaveLength(3); // the primary and two workers
  for (const pid of pids) {
    const environ = fs.readFileSync(`/proc/${pid}/environ`, 'latin1');
    expect(environ).toContain('KMS_WORKERS=2'); // the right processes, and readable
    expect(environ).not.toContain('KMS_HSM_PIN');
    expect(environ).not.toContain(PIN);
    expect(fs.readFileSync(`/proc/${pid}/cmdline`, 'latin1')).not.toContain(PIN);
  }

  // The CLI takes the PIN from its environment as before.
  const cred = await kms.createAccount('pin-env');
  const c = kmsClient(kms.endpoint, cred);
  const { KeyId } = await c.CreateKey({ Alias: 'pin-env' });
  // New connections each time: round robin spreads them over both workers.
  for (let i = 0; i < 6; i++) {
    const fresh = kmsClient(kms.endpoint, cred, { agent: new http.Agent({ keepAlive: false }) });
    const { CiphertextBlob } = await fresh.Encrypt({ KeyId: KeyId!, Plaintext: b64(`secret ${i}`) });
    expect(Buffer.from((await fresh.Decrypt({ CiphertextBlob: CiphertextBlob! })).Plaintext!, 'base64').toString()).toBe(`secret ${i}`);
  }
  expect(kms.processIds().sort()).toEqual(pids.sort());

  // A worker started later, in place of one that died, gets the PIN the same way.
  process.kill(pids[1], 'SIGKILL');
  const until = Date.now() + 20_000;
  while ((kms.logs.match(/"msg":"listening"/g) ?? []).length < 3 && Date.now() < until) await new Promise((r) => setTimeout(r, 100));
  const replacement = kms.processIds().find((p) => !pids.includes(p))!;
  expect(replacement).toBeDefined();
  expect(fs.readFileSync(`/proc/${replacement}/environ`, 'latin1')).not.toContain(PIN);
  for (let i = 0; i < 4; i++) {
    const fresh = kmsClient(kms.endpoint, cred, { agent: new http.Agent({ keepAlive: false }) });
    expect((await fresh.Encrypt({ KeyId: KeyId!, Plaintext: b64('after restart') })).CiphertextBlob).toBeTruthy();
  }
  expect(kms.logs).not.toContain(PIN);
});

it('tells unauthenticated callers only whether the service is up', async () => {
  const r = await fetch(`http://${kms.endpoint}/_kms/health`);
  expect(r.status).toBe(200);
  expect(await r.json()).toEqual({ status: 'up' });
  expect(r.headers.get('x-powered-by')).toBeNull();
});

import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadProfile } from '../src/hsm/hsm-profile';
import { KmsService, runToExit } from './support/kms-service';
import { b64, kmsClient } from './support/tencent-client';

/** A token reached through a profile file, in the async call mode, with fewer sessions than concurrent requests. */

const ROOT = path.resolve(__dirname, '..');
const SOFTHSM = ['/usr/lib/softhsm/libsofthsm2.so', '/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so'].find((p) => fs.existsSync(p))!;
let dir: string;

function makeToken(label: string): { conf: string } {
  fs.mkdirSync(path.join(dir, 'tokens'), { recursive: true });
  const conf = path.join(dir, 'softhsm2.conf');
  fs.writeFileSync(conf, `directories.tokendir = ${dir}/tokens\nobjectstore.backend = file\nlog.level = ERROR\n`);
  execFileSync('softhsm2-util', ['--init-token', '--free', '--label', label, '--so-pin', 'so-pin-1', '--pin', 'user-pin-1'], { env: { ...process.env, SOFTHSM2_CONF: conf } });
  return { conf };
}

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kms-profile-'));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

it('serves 400 concurrent requests in async mode through a pool of 4 sessions', async () => {
  const { conf } = makeToken('async-token');
  const pinFile = path.join(dir, 'pin');
  fs.writeFileSync(pinFile, 'user-pin-1\n', { mode: 0o600 });
  const profile = path.join(dir, 'async.json');
  fs.writeFileSync(profile, JSON.stringify({ module: SOFTHSM, token: { label: 'async-token' }, pinFile, maxSessions: 4, callMode: 'async', env: { SOFTHSM2_CONF: conf } }));
  const kms = await KmsService.start({ env: { KMS_HSM_PROFILE: profile, KMS_HSM_SO_PIN: 'so-pin-1', KMS_RATE_LIMITS: 'off' } });
  try {
    const c = kmsClient(kms.endpoint, await kms.createAccount('async'));
    const { KeyId } = await c.CreateKey({ Alias: 'async' });
    const results = await Promise.all(
      Array.from({ length: 200 }, async (_, i) => {
        const pt = `message ${i}`;
        const enc = await c.Encrypt({ KeyId: KeyId!, Plaintext: b64(pt), EncryptionContext: `{"i":"${i}"}` });
        const dec = await c.Decrypt({ CiphertextBlob: enc.CiphertextBlob!, EncryptionContext: `{"i":"${i}"}` });
        return Buffer.from(dec.Plaintext!, 'base64').toString() === pt;
      }),
    );
    expect(results.every(Boolean)).toBe(true);
  } finally {
    await kms.stop();
  }
});

it('refuses to start on a missing, malformed or invalid profile or a PIN file others can read, with a clear message', async () => {
  const run = (env: Record<string, string>) => runToExit({ KMS_DATA_DIR: path.join(dir, 'd'), ...env }, { args: ['migrate'] });
  const missing = await run({ KMS_HSM_PROFILE: 'no-such-profile' });
  expect(missing.code).toBe(1);
  expect(missing.text).toMatch(/HSM profile "no-such-profile" not found/);
  const open = path.join(dir, 'open.pin');
  fs.writeFileSync(open, 'user-pin-1\n', { mode: 0o644 });
  const loose = await run({ KMS_HSM_PROFILE: path.join(ROOT, 'hsm-config/softhsm.json'), KMS_HSM_PIN_FILE: open });
  expect(loose.code).toBe(1);
  expect(loose.text).toMatch(/must not be readable by group or others/);
  expect(loose.text).not.toContain('user-pin-1');
  // A profile that is not JSON, and one that is but breaks a rule: each named, with what is wrong.
  const notJson = path.join(dir, 'not-json.json');
  fs.writeFileSync(notJson, '{ "module": ');
  const broken = await run({ KMS_HSM_PROFILE: notJson });
  expect(broken.code).toBe(1);
  expect(broken.text).toContain(`${notJson}: invalid JSON (`);
  const noSessions = path.join(dir, 'no-sessions.json');
  fs.writeFileSync(noSessions, JSON.stringify({ module: SOFTHSM, token: { label: 'x' }, maxSessions: 0 }));
  const invalid = await run({ KMS_HSM_PROFILE: noSessions });
  expect(invalid.code).toBe(1);
  expect(invalid.text).toContain(`${noSessions}: maxSessions must be 1..1024`);
});

it('ships profiles that parse', () => {
  for (const f of fs.readdirSync(path.join(ROOT, 'hsm-config')).filter((n) => n.endsWith('.json'))) {
    expect(loadProfile(f, path.join(ROOT, 'hsm-config')).module).toMatch(/^\//);
  }
});

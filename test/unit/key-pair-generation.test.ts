import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { SOFTHSM_MODULE, UNPLUGGABLE_PIN, unpluggableToken } from '../support/unpluggable-token';

/**
 * Key pairs as the service makes them (src/hsm/key-pair.ts), on real SoftHSM tokens of the
 * test's own, in a process of its own (test/support/pair-threads-probe.js).
 *
 * Key pairs are made on libuv's thread pool while the process's main thread searches the token
 * (each new key first looks for what other processes wrote). Made there as token objects,
 * SoftHSM 2.6.1 failed most pairs that way (CKR_GENERAL_ERROR, now and then
 * CKR_TEMPLATE_INCONSISTENT), which the service answered as an internal error.
 */

const PROBE = path.join(__dirname, '..', 'support', 'pair-threads-probe.js');
interface Probed {
  failures: string[];
  searches: number;
  privateKeys: Array<Record<string, boolean>>;
  sessionObjects: number;
}
const probe = (env: NodeJS.ProcessEnv, module: string, label: string, pin: string, count: number): Probed =>
  JSON.parse(execFileSync(process.execPath, [PROBE, module, label, pin, String(count)], { env }).toString()) as Probed;

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kms-pair-threads-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

it('makes token key pairs while the main thread searches the token without pause', () => {
  fs.mkdirSync(path.join(dir, 'tokens'));
  const conf = path.join(dir, 'softhsm2.conf');
  fs.writeFileSync(conf, `directories.tokendir = ${dir}/tokens\nobjectstore.backend = file\nlog.level = ERROR\n`);
  const env = { ...process.env, SOFTHSM2_CONF: conf };
  execFileSync('softhsm2-util', ['--init-token', '--free', '--label', 'pair-threads', '--so-pin', 'so-secret', '--pin', '1234'], { env, stdio: 'ignore' });
  const r = probe(env, SOFTHSM_MODULE, 'pair-threads', '1234', 16);
  expect(r.failures).toEqual([]);
  expect(r.searches).toBeGreaterThan(16);
  // Each a token object as if made in place: private, sensitive and never extractable from the start, made in the token, not modifiable, unwrap only.
  expect(r.privateKeys).toEqual(Array(16).fill({ token: true, private: true, alwaysSensitive: true, neverExtractable: true, local: true, modifiable: false, unwrap: true, decrypt: false, sign: false }));
  // Nothing left in the session: the public halves and the session copies of the private keys are destroyed.
  expect(r.sessionObjects).toBe(0);
});

it("gives back a token's refusal to copy the private key, and leaves nothing of the pair", () => {
  const token = unpluggableToken('kms-pair-copy', 1000, { copy: true });
  try {
    const profile = JSON.parse(fs.readFileSync(token.profile, 'utf8')) as { module: string; env: Record<string, string> };
    const r = probe({ ...process.env, ...profile.env }, profile.module, 'unpluggable', UNPLUGGABLE_PIN, 2);
    expect(r.failures).toEqual([expect.stringMatching(/CKR_FUNCTION_NOT_SUPPORTED/), expect.stringMatching(/CKR_FUNCTION_NOT_SUPPORTED/)]);
    expect(r.privateKeys).toEqual([]);
    expect(r.sessionObjects).toBe(0);
  } finally {
    token.remove();
  }
});

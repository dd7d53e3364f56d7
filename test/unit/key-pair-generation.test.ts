import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as pkcs11 from 'pkcs11js';
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
/** The probe's report, and what it logged. */
function probe(env: NodeJS.ProcessEnv, module: string, label: string, pin: string, count: number, searching = 'searching'): Probed & { log: string } {
  const r = spawnSync(process.execPath, [PROBE, module, label, pin, String(count), searching], { env, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`the probe exited with ${r.status}: ${r.stderr}`);
  return { ...(JSON.parse(r.stdout) as Probed), log: r.stderr };
}

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

it('makes the pairs in place on a token that will not copy a private key to itself, and says so once', () => {
  const token = unpluggableToken('kms-pair-copy', 1000);
  token.refuseCopy(pkcs11.CKR_FUNCTION_NOT_SUPPORTED);
  try {
    const profile = JSON.parse(fs.readFileSync(token.profile, 'utf8')) as { module: string; env: Record<string, string> };
    // Without the search loop: made in place on the thread pool, SoftHSM's own pairs would meet the failure above.
    const r = probe({ ...process.env, ...profile.env }, profile.module, 'unpluggable', UNPLUGGABLE_PIN, 2, 'quiet');
    expect(r.failures).toEqual([]);
    expect(r.privateKeys).toEqual(Array(2).fill({ token: true, private: true, alwaysSensitive: true, neverExtractable: true, local: true, modifiable: false, unwrap: true, decrypt: false, sign: false }));
    // The first pair's session objects, made before the copy was refused, are gone too.
    expect(r.sessionObjects).toBe(0);
    expect(r.log.match(/does not copy a key to itself; keys are made in place from now on/g)).toHaveLength(1);
    expect(r.log).toMatch(/CKR_FUNCTION_NOT_SUPPORTED/);
  } finally {
    token.remove();
  }
});

import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { SOFTHSM_MODULE } from '../support/unpluggable-token';

/**
 * Key pairs are made on libuv's thread pool while the process's main thread searches the token
 * (each new key first looks for what other processes wrote). Made there as token objects,
 * SoftHSM 2.6.1 failed most pairs that way (CKR_GENERAL_ERROR, now and then
 * CKR_TEMPLATE_INCONSISTENT), which the service answered as an internal error. On a real
 * SoftHSM token of the test's own, in a process of its own (test/support/pair-threads-probe.js).
 */

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kms-pair-threads-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

it('makes token key pairs while the main thread searches the token without pause', () => {
  fs.mkdirSync(path.join(dir, 'tokens'));
  const conf = path.join(dir, 'softhsm2.conf');
  fs.writeFileSync(conf, `directories.tokendir = ${dir}/tokens\nobjectstore.backend = file\nlog.level = ERROR\n`);
  const env = { ...process.env, SOFTHSM2_CONF: conf };
  execFileSync('softhsm2-util', ['--init-token', '--free', '--label', 'pair-threads', '--so-pin', 'so-secret', '--pin', '1234'], { env, stdio: 'ignore' });
  const out = execFileSync(process.execPath, [path.join(__dirname, '..', 'support', 'pair-threads-probe.js'), SOFTHSM_MODULE, 'pair-threads', '1234', '16'], { env });
  const r = JSON.parse(out.toString()) as { failures: string[]; searches: number; privateKeys: Array<Record<string, boolean>>; sessionObjects: number };
  expect(r.failures).toEqual([]);
  expect(r.searches).toBeGreaterThan(16);
  // Each a token object as if made in place: private, sensitive and never extractable from the start, made in the token, not modifiable, unwrap only.
  expect(r.privateKeys).toEqual(Array(16).fill({ token: true, private: true, alwaysSensitive: true, neverExtractable: true, local: true, modifiable: false, unwrap: true, decrypt: false, sign: false }));
  // Nothing left in the session: the public halves and the session copies of the private keys are destroyed.
  expect(r.sessionObjects).toBe(0);
});

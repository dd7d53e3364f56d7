import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const ROOT = path.resolve(__dirname, '..', '..');
export const SOFTHSM_MODULE = ['/usr/lib/softhsm/libsofthsm2.so', '/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so'].find((p) => fs.existsSync(p))!;
export const UNPLUGGABLE_PIN = 'user-secret';

export interface UnpluggableToken {
  dir: string;
  /** The HSM profile (a file) to give the service as KMS_HSM_PROFILE. */
  profile: string;
  unplug(): void;
  plugIn(): void;
  /** From now on C_Login answers CKR_PIN_INCORRECT (the token came back with another PIN), until acceptLogin. */
  refuseLogin(): void;
  acceptLogin(): void;
  /** From now on C_CopyObject answers `ckr` (a token that cannot copy, or goes away as it copies), until copyAgain. */
  refuseCopy(ckr: number): void;
  copyAgain(): void;
  remove(): void;
}

/**
 * A fresh SoftHSM token behind test/support/unpluggable-pkcs11.c (compiled here with gcc),
 * which answers CKR_DEVICE_REMOVED while unplugged: a token that can be pulled out and put
 * back. (p11-kit server would do, but Debian 12's p11-kit 0.24.1 does not forward AES-GCM.)
 * `refuse`: mechanisms C_SignInit or C_GenerateKeyPair refuses although the token lists them.
 */
export function unpluggableToken(prefix: string, reloadIntervalMs: number, refuse: { sign?: number; keyPair?: number } = {}): UnpluggableToken {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `${prefix}-`));
  const module = path.join(dir, 'unpluggable.so');
  execFileSync('gcc', ['-shared', '-fPIC', '-o', module, path.join(ROOT, 'test/support/unpluggable-pkcs11.c'), '-I', path.join(ROOT, 'node_modules/pkcs11js/includes/pkcs11'), '-ldl']);
  fs.mkdirSync(path.join(dir, 'tokens'));
  const conf = path.join(dir, 'softhsm2.conf');
  fs.writeFileSync(conf, `directories.tokendir = ${dir}/tokens\nobjectstore.backend = file\nlog.level = ERROR\n`);
  execFileSync('softhsm2-util', ['--init-token', '--free', '--label', 'unpluggable', '--so-pin', 'so-secret', '--pin', UNPLUGGABLE_PIN], { env: { ...process.env, SOFTHSM2_CONF: conf } });
  const unplugFile = path.join(dir, 'unplugged');
  const refuseLoginFile = path.join(dir, 'login-refused');
  const copyFile = path.join(dir, 'copy-answer');
  const profile = path.join(dir, 'unpluggable.json');
  // The SO PIN, for wrapped key storage's set-up (KMS_KEY_STORAGE=wrapped makes key-encryption keys).
  const soPinFile = path.join(dir, 'so.pin');
  fs.writeFileSync(soPinFile, 'so-secret\n', { mode: 0o600 });
  fs.writeFileSync(
    profile,
    JSON.stringify({ name: 'unpluggable', module, token: { label: 'unpluggable' }, soPinFile, maxSessions: 8, reloadIntervalMs, env: { SOFTHSM2_CONF: conf, UNPLUG_FILE: unplugFile, UNPLUG_REFUSE_LOGIN_FILE: refuseLoginFile, UNPLUG_REAL_MODULE: SOFTHSM_MODULE, ...(refuse.sign !== undefined && { UNPLUG_REFUSE_SIGN: String(refuse.sign) }), ...(refuse.keyPair !== undefined && { UNPLUG_REFUSE_KEY_PAIR: String(refuse.keyPair) }), UNPLUG_COPY_FILE: copyFile } }),
  );
  return {
    dir,
    profile,
    unplug: () => fs.writeFileSync(unplugFile, ''),
    plugIn: () => fs.rmSync(unplugFile, { force: true }),
    refuseLogin: () => fs.writeFileSync(refuseLoginFile, ''),
    acceptLogin: () => fs.rmSync(refuseLoginFile, { force: true }),
    refuseCopy: (ckr: number) => fs.writeFileSync(copyFile, String(ckr)),
    copyAgain: () => fs.rmSync(copyFile, { force: true }),
    remove: () => fs.rmSync(dir, { recursive: true, force: true }),
  };
}

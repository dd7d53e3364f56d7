import * as fs from 'node:fs';
import * as path from 'node:path';
import * as crypto from 'node:crypto';
import * as pkcs11 from 'pkcs11js';
import { HsmProfile } from './hsm-profile';

export const SOFTHSM_MODULE_CANDIDATES = [
  '/usr/lib/softhsm/libsofthsm2.so',
  '/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so',
  '/usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so',
  '/usr/local/lib/softhsm/libsofthsm2.so',
];
export const EMBEDDED_TOKEN_LABEL = 'kms';

export function findSoftHsmModule(): string {
  const found = (process.env.KMS_SOFTHSM_MODULE ? [process.env.KMS_SOFTHSM_MODULE] : SOFTHSM_MODULE_CANDIDATES).find((p) => fs.existsSync(p));
  if (!found) throw new Error('SoftHSMv2 is not installed (apt install softhsm2), and no KMS_HSM_PROFILE is set');
  return found;
}

const pad32 = (s: string): string => s.padEnd(32, ' ');
export const tokenLabel = (info: pkcs11.TokenInfo): string => info.label.replace(/[\0 ]+$/, '');

/**
 * The embedded default: a SoftHSM token under `<dataDir>/softhsm`, created and initialized
 * on first use. The PINs are random and kept in files of mode 0600 next to it. Safe to call
 * from several processes at once: creation happens under an exclusive lock file.
 */
export function ensureEmbeddedSoftHsm(dataDir: string): HsmProfile {
  const dir = path.join(dataDir, 'softhsm');
  const tokens = path.join(dir, 'tokens');
  const conf = path.join(dir, 'softhsm2.conf');
  const pinFile = path.join(dir, 'user.pin');
  const soPinFile = path.join(dir, 'so.pin');
  const module = findSoftHsmModule();
  fs.mkdirSync(tokens, { recursive: true, mode: 0o700 });
  if (!fs.existsSync(conf)) {
    fs.writeFileSync(conf, `directories.tokendir = ${tokens}\nobjectstore.backend = file\nlog.level = ERROR\nslots.removable = false\n`, { mode: 0o600 });
  }
  const profile: HsmProfile = {
    name: 'embedded-softhsm',
    module,
    token: { label: EMBEDDED_TOKEN_LABEL },
    pinFile,
    soPinFile,
    maxSessions: 16,
    callMode: 'sync',
    reloadIntervalMs: 2000,
    env: { SOFTHSM2_CONF: conf },
    // SoftHSM has no SM2, SM3 or SM4 mechanisms.
    gm: {},
  };
  if (fs.existsSync(pinFile)) return profile;

  const lock = path.join(dir, 'init.lock');
  let fd: number;
  try {
    fd = fs.openSync(lock, 'wx', 0o600);
  } catch {
    // Another process is initializing: wait for its PIN file.
    const until = Date.now() + 30_000;
    while (!fs.existsSync(pinFile) && Date.now() < until) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 50);
    if (!fs.existsSync(pinFile)) throw new Error(`SoftHSM initialization by another process did not finish; remove ${lock} if it is stale`);
    return profile;
  }
  try {
    initToken(profile, soPinFile);
  } finally {
    fs.closeSync(fd);
    fs.rmSync(lock, { force: true });
  }
  return profile;
}

function initToken(profile: HsmProfile, soPinFile: string): void {
  const userPin = crypto.randomBytes(18).toString('base64url');
  const soPin = crypto.randomBytes(18).toString('base64url');
  process.env.SOFTHSM2_CONF = profile.env.SOFTHSM2_CONF;
  const m = new pkcs11.PKCS11();
  m.load(profile.module);
  m.C_Initialize({ flags: pkcs11.CKF_OS_LOCKING_OK });
  try {
    const slots = m.C_GetSlotList(true);
    const existing = slots.find((s) => tokenLabel(m.C_GetTokenInfo(s)) === EMBEDDED_TOKEN_LABEL);
    if (existing) throw new Error(`a token labelled "${EMBEDDED_TOKEN_LABEL}" exists but its PIN file is missing; restore ${profile.pinFile}`);
    const free = slots.find((s) => (m.C_GetTokenInfo(s).flags & pkcs11.CKF_TOKEN_INITIALIZED) === 0);
    if (free === undefined) throw new Error('SoftHSM offers no free slot');
    m.C_InitToken(free, soPin, pad32(EMBEDDED_TOKEN_LABEL));
    const slot = m.C_GetSlotList(true).find((s) => tokenLabel(m.C_GetTokenInfo(s)) === EMBEDDED_TOKEN_LABEL);
    if (slot === undefined) throw new Error('the new SoftHSM token is not visible');
    const session = m.C_OpenSession(slot, pkcs11.CKF_SERIAL_SESSION | pkcs11.CKF_RW_SESSION);
    m.C_Login(session, pkcs11.CKU_SO, soPin);
    m.C_InitPIN(session, userPin);
    m.C_Logout(session);
    m.C_CloseSession(session);
  } finally {
    m.C_Finalize();
    m.close();
  }
  fs.writeFileSync(soPinFile, soPin + '\n', { mode: 0o600 });
  // Written last: its presence means "initialized".
  fs.writeFileSync(profile.pinFile!, userPin + '\n', { mode: 0o600 });
}

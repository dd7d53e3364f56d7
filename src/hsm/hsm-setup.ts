import * as fs from 'node:fs';
import * as path from 'node:path';
import { KmsConfig } from '../config/config';
import { HsmProfile, HsmProfileError, loadProfile } from './hsm-profile';
import { ensureEmbeddedSoftHsm } from './softhsm-bootstrap';
import { packageRoot } from '../common/package-root';
import { wipe } from '../common/wipe';

export const HSM_CONFIG_DIR = path.join(packageRoot(), 'hsm-config');

export interface HsmSetup {
  profile: HsmProfile;
  pin: string;
}

function readPinFile(file: string): string {
  const st = fs.statSync(file);
  if ((st.mode & 0o077) !== 0) throw new HsmProfileError(`PIN file ${file} must not be readable by group or others (chmod 600)`);
  const raw = fs.readFileSync(file);
  // The PIN itself stays a string (pkcs11js's C_Login takes one, and reloads log in again).
  const pin = raw.toString('utf8').trim();
  wipe(raw);
  if (!pin) throw new HsmProfileError(`PIN file ${file} is empty`);
  return pin;
}

/**
 * The profile (KMS_HSM_PROFILE, else the embedded SoftHSM token in the data folder) and the
 * user PIN: KMS_HSM_PIN, else KMS_HSM_PIN_FILE, else the profile's pinFile.
 */
export function resolveHsm(cfg: KmsConfig): HsmSetup {
  const profile = cfg.hsmProfile ? loadProfile(cfg.hsmProfile, HSM_CONFIG_DIR) : ensureEmbeddedSoftHsm(cfg.dataDir);
  let pin = cfg.hsmPin;
  if (!pin) {
    const file = cfg.hsmPinFile ?? profile.pinFile;
    if (!file) throw new HsmProfileError(`no PIN for HSM profile "${profile.name}": set KMS_HSM_PIN or KMS_HSM_PIN_FILE`);
    pin = readPinFile(file);
  }
  return { profile, pin };
}

/** The security officer's PIN, if given: KMS_HSM_SO_PIN, else KMS_HSM_SO_PIN_FILE, else the profile's soPinFile. Read only when needed. */
export function resolveSoPin(cfg: KmsConfig, profile: HsmProfile): string | undefined {
  if (cfg.hsmSoPin) return cfg.hsmSoPin;
  const file = cfg.hsmSoPinFile ?? profile.soPinFile;
  return file ? readPinFile(file) : undefined;
}

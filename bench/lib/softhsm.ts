import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as pkcs11 from 'pkcs11js';

/**
 * A fresh SoftHSM token in a folder of its own, the same kind the service's embedded
 * default creates: its own softhsm2.conf, a random SO and user PIN, one AES-256 key that is
 * sensitive, not extractable and can only encrypt and decrypt. All calls are synchronous.
 */

const MODULE_CANDIDATES = [
  '/usr/lib/softhsm/libsofthsm2.so',
  '/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so',
  '/usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so',
  '/usr/local/lib/softhsm/libsofthsm2.so',
];
const LABEL = 'bench';
const IV_BYTES = 12;
const TAG_BYTES = 16;

function softhsmModule(): string {
  const found = (process.env.KMS_SOFTHSM_MODULE ? [process.env.KMS_SOFTHSM_MODULE] : MODULE_CANDIDATES).find((p) => fs.existsSync(p));
  if (!found) throw new Error('SoftHSMv2 is not installed (apt install softhsm2)');
  return found;
}

const labelOf = (info: pkcs11.TokenInfo): string => info.label.replace(/[\0 ]+$/, '');

/** Every usage attribute explicit: SoftHSM defaults the unset ones to true. */
function aes256Template(): pkcs11.Template {
  return [
    { type: pkcs11.CKA_CLASS, value: pkcs11.CKO_SECRET_KEY },
    { type: pkcs11.CKA_KEY_TYPE, value: pkcs11.CKK_AES },
    { type: pkcs11.CKA_VALUE_LEN, value: 32 },
    { type: pkcs11.CKA_ID, value: crypto.randomBytes(16) },
    { type: pkcs11.CKA_LABEL, value: 'bench-cmk' },
    { type: pkcs11.CKA_TOKEN, value: true },
    { type: pkcs11.CKA_PRIVATE, value: true },
    { type: pkcs11.CKA_MODIFIABLE, value: false },
    { type: pkcs11.CKA_SENSITIVE, value: true },
    { type: pkcs11.CKA_EXTRACTABLE, value: false },
    { type: pkcs11.CKA_ENCRYPT, value: true },
    { type: pkcs11.CKA_DECRYPT, value: true },
    { type: pkcs11.CKA_WRAP, value: false },
    { type: pkcs11.CKA_UNWRAP, value: false },
    { type: pkcs11.CKA_SIGN, value: false },
    { type: pkcs11.CKA_VERIFY, value: false },
    { type: pkcs11.CKA_DERIVE, value: false },
  ];
}

function gcm(iv: Buffer, aad: Buffer): pkcs11.Mechanism {
  const parameter: pkcs11.GcmParams = { type: pkcs11.CK_PARAMS_AES_GCM, iv, ivBits: IV_BYTES * 8, aad, tagBits: TAG_BYTES * 8 };
  return { mechanism: pkcs11.CKM_AES_GCM, parameter };
}

export class BenchToken {
  private closed = false;

  private constructor(private readonly m: pkcs11.PKCS11, private readonly session: Buffer, private readonly key: Buffer) {}

  /** Creates the token under `dir` (which must exist and be empty) and logs in. */
  static create(dir: string): BenchToken {
    const tokens = path.join(dir, 'tokens');
    const conf = path.join(dir, 'softhsm2.conf');
    fs.mkdirSync(tokens, { recursive: true, mode: 0o700 });
    fs.writeFileSync(conf, `directories.tokendir = ${tokens}\nobjectstore.backend = file\nlog.level = ERROR\nslots.removable = false\n`, { mode: 0o600 });
    // SoftHSM reads its configuration when the module is initialized.
    process.env.SOFTHSM2_CONF = conf;
    const soPin = crypto.randomBytes(12).toString('base64url');
    const userPin = crypto.randomBytes(12).toString('base64url');
    const m = new pkcs11.PKCS11();
    m.load(softhsmModule());
    m.C_Initialize();
    try {
      const free = m.C_GetSlotList(true).find((s) => (m.C_GetTokenInfo(s).flags & pkcs11.CKF_TOKEN_INITIALIZED) === 0);
      if (free === undefined) throw new Error('SoftHSM offers no free slot');
      m.C_InitToken(free, soPin, LABEL.padEnd(32, ' '));
      // SoftHSM renumbers the slot once its token is initialized: find it again by label.
      const slot = m.C_GetSlotList(true).find((s) => labelOf(m.C_GetTokenInfo(s)) === LABEL);
      if (slot === undefined) throw new Error('the new SoftHSM token is not visible');
      const so = m.C_OpenSession(slot, pkcs11.CKF_SERIAL_SESSION | pkcs11.CKF_RW_SESSION);
      m.C_Login(so, pkcs11.CKU_SO, soPin);
      m.C_InitPIN(so, userPin);
      m.C_Logout(so);
      m.C_CloseSession(so);
      const session = m.C_OpenSession(slot, pkcs11.CKF_SERIAL_SESSION | pkcs11.CKF_RW_SESSION);
      m.C_Login(session, pkcs11.CKU_USER, userPin);
      const key = m.C_GenerateKey(session, { mechanism: pkcs11.CKM_AES_KEY_GEN }, aes256Template());
      return new BenchToken(m, session, key);
    } catch (e) {
      m.C_Finalize();
      m.close();
      throw e;
    }
  }

  /** AES-256-GCM in the token: C_EncryptInit + C_Encrypt; returns ciphertext || tag. */
  encrypt(iv: Buffer, aad: Buffer, plaintext: Buffer): Buffer {
    this.m.C_EncryptInit(this.session, gcm(iv, aad), this.key);
    return this.m.C_Encrypt(this.session, plaintext, Buffer.allocUnsafe(plaintext.length + TAG_BYTES));
  }

  decrypt(iv: Buffer, aad: Buffer, sealed: Buffer): Buffer {
    this.m.C_DecryptInit(this.session, gcm(iv, aad), this.key);
    return this.m.C_Decrypt(this.session, sealed, Buffer.allocUnsafe(sealed.length));
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    try {
      this.m.C_Finalize();
    } finally {
      this.m.close();
    }
  }
}

export const GCM_IV_BYTES = IV_BYTES;

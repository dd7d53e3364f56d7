import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as pkcs11 from 'pkcs11js';
import { GCM_IV_BYTES, GCM_TAG_BYTES, aesKeyTemplate } from '../../src/hsm/aes';
import { EMBEDDED_TOKEN_LABEL, ensureEmbeddedSoftHsm, tokenLabel } from '../../src/hsm/softhsm-bootstrap';

/**
 * A fresh SoftHSM token in a folder of its own, created exactly as the service's embedded
 * default creates its token (same bootstrap, same key template), with one AES-256 CMK. The
 * calls after that are plain synchronous pkcs11js, which is what makes this the reference.
 */

function gcm(iv: Buffer, aad: Buffer): pkcs11.Mechanism {
  const parameter: pkcs11.GcmParams = { type: pkcs11.CK_PARAMS_AES_GCM, iv, ivBits: GCM_IV_BYTES * 8, aad, tagBits: GCM_TAG_BYTES * 8 };
  return { mechanism: pkcs11.CKM_AES_GCM, parameter };
}

export class BenchToken {
  private closed = false;

  private constructor(private readonly m: pkcs11.PKCS11, private readonly session: Buffer, private readonly key: Buffer) {}

  /** Creates the token under `dir` (which must exist) and logs in. */
  static create(dir: string): BenchToken {
    const profile = ensureEmbeddedSoftHsm(dir);
    const pin = fs.readFileSync(profile.pinFile!, 'utf8').trim();
    // SoftHSM reads its configuration when the module is initialized.
    process.env.SOFTHSM2_CONF = profile.env.SOFTHSM2_CONF;
    const m = new pkcs11.PKCS11();
    m.load(profile.module);
    m.C_Initialize({ flags: pkcs11.CKF_OS_LOCKING_OK });
    try {
      const slot = m.C_GetSlotList(true).find((s) => tokenLabel(m.C_GetTokenInfo(s)) === EMBEDDED_TOKEN_LABEL);
      if (slot === undefined) throw new Error('the bench SoftHSM token is not visible');
      const session = m.C_OpenSession(slot, pkcs11.CKF_SERIAL_SESSION | pkcs11.CKF_RW_SESSION);
      m.C_Login(session, pkcs11.CKU_USER, pin);
      const key = m.C_GenerateKey(session, { mechanism: pkcs11.CKM_AES_KEY_GEN }, aesKeyTemplate(crypto.randomBytes(16), 'bench-cmk', 32));
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
    return this.m.C_Encrypt(this.session, plaintext, Buffer.allocUnsafe(plaintext.length + GCM_TAG_BYTES));
  }

  /** AES-256-GCM in parts: C_EncryptInit, C_EncryptUpdate per segment, C_EncryptFinal; returns ciphertext || tag. */
  encryptInParts(iv: Buffer, aad: Buffer, data: Buffer, segment: number): Buffer {
    this.m.C_EncryptInit(this.session, gcm(iv, aad), this.key);
    const out: Buffer[] = [];
    for (let at = 0; at < data.length; at += segment) {
      const part = data.subarray(at, at + segment);
      out.push(Buffer.from(this.m.C_EncryptUpdate(this.session, part, Buffer.allocUnsafe(part.length + 16))));
    }
    out.push(Buffer.from(this.m.C_EncryptFinal(this.session, Buffer.allocUnsafe(32))));
    return Buffer.concat(out);
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

export { GCM_IV_BYTES };

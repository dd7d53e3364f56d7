import * as pkcs11 from 'pkcs11js';
import { HsmDataInvalidError, HsmMechanismError, ckrOf } from './hsm-errors';
import { TemplateAdapter, asIs } from './key-pair';
import { Handle, Pkcs11 } from './token';

/** AES family: key generation and AES-GCM, all inside the token. */

export const GCM_IV_BYTES = 12;
export const GCM_TAG_BYTES = 16;

/**
 * Every usage flag is set explicitly: SoftHSM defaults unset ones to TRUE. CMKs are
 * sensitive and never extractable; they can only encrypt and decrypt.
 */
export function aesKeyTemplate(id: Buffer, label: string, bytes: 16 | 24 | 32): pkcs11.Template {
  return [
    { type: pkcs11.CKA_CLASS, value: pkcs11.CKO_SECRET_KEY },
    { type: pkcs11.CKA_KEY_TYPE, value: pkcs11.CKK_AES },
    { type: pkcs11.CKA_VALUE_LEN, value: bytes },
    { type: pkcs11.CKA_ID, value: id },
    { type: pkcs11.CKA_LABEL, value: label },
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

export function generateAesKey(m: Pkcs11, session: Handle, id: Buffer, label: string, bytes: 16 | 24 | 32, adapt: TemplateAdapter = asIs): Handle {
  return m.C_GenerateKey(session, { mechanism: pkcs11.CKM_AES_KEY_GEN }, adapt(aesKeyTemplate(id, label, bytes)));
}

function gcm(iv: Buffer, aad: Buffer): pkcs11.Mechanism {
  // pkcs11js hands malformed parameters to the module as garbage: check them here.
  if (iv.length !== GCM_IV_BYTES) throw new HsmMechanismError(`AES-GCM IV must be ${GCM_IV_BYTES} bytes`);
  const parameter: pkcs11.GcmParams = { type: pkcs11.CK_PARAMS_AES_GCM, iv, ivBits: GCM_IV_BYTES * 8, aad, tagBits: GCM_TAG_BYTES * 8 };
  return { mechanism: pkcs11.CKM_AES_GCM, parameter };
}

/** Returns ciphertext || tag. */
export async function gcmEncrypt(m: Pkcs11, s: Handle, key: Handle, iv: Buffer, aad: Buffer, plaintext: Buffer, async: boolean): Promise<Buffer> {
  m.C_EncryptInit(s, gcm(iv, aad), key);
  const out = Buffer.allocUnsafe(plaintext.length + GCM_TAG_BYTES);
  // pkcs11js refuses an empty input (CKR_ARGUMENTS_BAD); finishing at once yields just the tag.
  if (plaintext.length === 0) return async ? m.C_EncryptFinalAsync(s, out) : m.C_EncryptFinal(s, out);
  return async ? m.C_EncryptAsync(s, plaintext, out) : m.C_Encrypt(s, plaintext, out);
}

/** Takes ciphertext || tag; a wrong key, tag or AAD raises HsmDataInvalidError. */
export async function gcmDecrypt(m: Pkcs11, s: Handle, key: Handle, iv: Buffer, aad: Buffer, sealed: Buffer, async: boolean): Promise<Buffer> {
  if (sealed.length < GCM_TAG_BYTES) throw new HsmDataInvalidError('AES-GCM input shorter than its tag');
  m.C_DecryptInit(s, gcm(iv, aad), key);
  const out = Buffer.allocUnsafe(sealed.length);
  try {
    return await (async ? m.C_DecryptAsync(s, sealed, out) : m.C_Decrypt(s, sealed, out));
  } catch (e) {
    // SoftHSM answers a wrong GCM tag or AAD from C_Decrypt with CKR_GENERAL_ERROR; only
    // here does that code mean "bad data" rather than a failing token.
    if (ckrOf(e) === pkcs11.CKR_GENERAL_ERROR) throw new HsmDataInvalidError('C_Decrypt: the GCM tag does not verify', pkcs11.CKR_GENERAL_ERROR, 'C_Decrypt');
    throw e;
  }
}

export function generateRandom(m: Pkcs11, s: Handle, bytes: number): Buffer {
  return m.C_GenerateRandom(s, Buffer.alloc(bytes));
}

/** An AES key object made from caller material (a plain import): the same attributes as a generated key. */
export function createAesKeyFromValue(m: Pkcs11, session: Handle, id: Buffer, label: string, value: Buffer, adapt: TemplateAdapter = asIs): Handle {
  const template = aesKeyTemplate(id, label, value.length as 16 | 24 | 32).filter((a) => a.type !== pkcs11.CKA_VALUE_LEN);
  return m.C_CreateObject(session, [...adapt(template), { type: pkcs11.CKA_VALUE, value }]);
}

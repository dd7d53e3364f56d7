import * as pkcs11 from 'pkcs11js';
import { TemplateAdapter, asIs } from './key-pair';
import { Handle, Pkcs11 } from './token';

/** HMAC-SHA256 inside the token: a generic secret that can only sign and verify. */

export const HMAC_BYTES = 32;

/** Every usage flag explicit (SoftHSM defaults unset ones to TRUE): sensitive, never extractable, sign and verify only. */
export function hmacKeyTemplate(id: Buffer, label: string): pkcs11.Template {
  return [
    { type: pkcs11.CKA_CLASS, value: pkcs11.CKO_SECRET_KEY },
    { type: pkcs11.CKA_KEY_TYPE, value: pkcs11.CKK_GENERIC_SECRET },
    { type: pkcs11.CKA_VALUE_LEN, value: HMAC_BYTES },
    { type: pkcs11.CKA_ID, value: id },
    { type: pkcs11.CKA_LABEL, value: label },
    { type: pkcs11.CKA_TOKEN, value: true },
    { type: pkcs11.CKA_PRIVATE, value: true },
    { type: pkcs11.CKA_MODIFIABLE, value: false },
    { type: pkcs11.CKA_SENSITIVE, value: true },
    { type: pkcs11.CKA_EXTRACTABLE, value: false },
    { type: pkcs11.CKA_SIGN, value: true },
    { type: pkcs11.CKA_VERIFY, value: true },
    { type: pkcs11.CKA_ENCRYPT, value: false },
    { type: pkcs11.CKA_DECRYPT, value: false },
    { type: pkcs11.CKA_WRAP, value: false },
    { type: pkcs11.CKA_UNWRAP, value: false },
    { type: pkcs11.CKA_DERIVE, value: false },
  ];
}

export function generateHmacKey(m: Pkcs11, s: Handle, id: Buffer, label: string, adapt: TemplateAdapter = asIs): Handle {
  return m.C_GenerateKey(s, { mechanism: pkcs11.CKM_GENERIC_SECRET_KEY_GEN }, adapt(hmacKeyTemplate(id, label)));
}

export function hmacSign(m: Pkcs11, s: Handle, key: Handle, data: Buffer): Buffer {
  m.C_SignInit(s, { mechanism: pkcs11.CKM_SHA256_HMAC }, key);
  return Buffer.from(m.C_Sign(s, data, Buffer.alloc(HMAC_BYTES)));
}

/** False for a MAC that does not verify (the token compares, in constant time). */
export function hmacVerify(m: Pkcs11, s: Handle, key: Handle, data: Buffer, mac: Buffer): boolean {
  if (mac.length !== HMAC_BYTES) return false;
  m.C_VerifyInit(s, { mechanism: pkcs11.CKM_SHA256_HMAC }, key);
  try {
    return m.C_Verify(s, data, mac);
  } catch (e) {
    if ((e as { code?: number }).code === pkcs11.CKR_SIGNATURE_INVALID) return false;
    throw e;
  }
}

/** An HMAC key object made from caller material (a plain import): the same attributes as a generated key. */
export function createHmacKeyFromValue(m: Pkcs11, s: Handle, id: Buffer, label: string, value: Buffer, adapt: TemplateAdapter = asIs): Handle {
  const template = hmacKeyTemplate(id, label).filter((a) => a.type !== pkcs11.CKA_VALUE_LEN);
  return m.C_CreateObject(s, [...adapt(template), { type: pkcs11.CKA_VALUE, value }]);
}

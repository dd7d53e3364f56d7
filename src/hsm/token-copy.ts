import * as pkcs11 from 'pkcs11js';
import { Handle, Pkcs11 } from './token';

/**
 * `template` made as a session object that `copyToToken` can take to the token: SoftHSM 2.6
 * refuses to copy a non-modifiable object there (CKR_ATTRIBUTE_READ_ONLY).
 */
export function asSessionObject(template: pkcs11.Template): pkcs11.Template {
  return template.map((a) => (a.type === pkcs11.CKA_TOKEN ? { type: a.type, value: false } : a.type === pkcs11.CKA_MODIFIABLE ? { type: a.type, value: true } : a));
}

/**
 * A token object copied from a session object made with `asSessionObject`, with its CKA_ID,
 * label and every other attribute, not modifiable. SoftHSM 2.6 takes CKA_MODIFIABLE false only
 * after CKA_TOKEN.
 */
export function copyToToken(m: Pkcs11, s: Handle, sessionObject: Handle): Handle {
  return m.C_CopyObject(s, sessionObject, [
    { type: pkcs11.CKA_TOKEN, value: true },
    { type: pkcs11.CKA_MODIFIABLE, value: false },
  ]);
}

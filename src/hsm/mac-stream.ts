import * as pkcs11 from 'pkcs11js';
import { HMAC_BYTES } from './hmac';
import { Handle, Pkcs11 } from './token';

/** HMAC-SHA256 over data given in parts (C_SignUpdate), on a held session. */

export function macInit(m: Pkcs11, s: Handle, key: Handle): void {
  m.C_SignInit(s, { mechanism: pkcs11.CKM_SHA256_HMAC }, key);
}

export function macUpdate(m: Pkcs11, s: Handle, data: Buffer): Buffer {
  // pkcs11js refuses an empty input.
  if (data.length > 0) m.C_SignUpdate(s, data);
  return Buffer.alloc(0);
}

export function macFinal(m: Pkcs11, s: Handle): Buffer {
  return Buffer.from(m.C_SignFinal(s, Buffer.alloc(HMAC_BYTES)));
}

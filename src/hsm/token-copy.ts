import * as pkcs11 from 'pkcs11js';
import { Log } from '../common/logger';
import { ckrOf } from './hsm-errors';
import { Handle, Pkcs11 } from './token';

/**
 * Keys are made or unwrapped as session objects and copied to the token once they are ready
 * (key pairs: see key-pair.ts; imported material: once checked). A token that will not copy a
 * key to itself gets its keys made in place instead.
 */

/**
 * `template` made as a session object that `copyToToken` can take to the token: SoftHSM 2.6
 * refuses to copy a non-modifiable object there (CKR_ATTRIBUTE_READ_ONLY).
 */
export function asSessionObject(template: pkcs11.Template): pkcs11.Template {
  return template.map((a) => (a.type === pkcs11.CKA_TOKEN ? { type: a.type, value: false } : a.type === pkcs11.CKA_MODIFIABLE ? { type: a.type, value: true } : a));
}

/**
 * `template` unwrapped in place on the token, not modifiable, for a token that will not copy.
 * CKA_MODIFIABLE false comes last: SoftHSM 2.6 applies an unwrap template in order and refuses
 * every attribute after it (CKR_ATTRIBUTE_READ_ONLY).
 */
export function asTokenObject(template: pkcs11.Template): pkcs11.Template {
  return [...template.filter((a) => a.type !== pkcs11.CKA_MODIFIABLE).map((a) => (a.type === pkcs11.CKA_TOKEN ? { type: a.type, value: true } : a)), { type: pkcs11.CKA_MODIFIABLE, value: false }];
}

/**
 * A token object copied from a session object made with `asSessionObject`, with its CKA_ID,
 * label and every other attribute, not modifiable. SoftHSM 2.6 takes CKA_MODIFIABLE false only
 * after CKA_TOKEN.
 */
function copyToToken(m: Pkcs11, s: Handle, sessionObject: Handle): Handle {
  return m.C_CopyObject(s, sessionObject, [
    { type: pkcs11.CKA_TOKEN, value: true },
    { type: pkcs11.CKA_MODIFIABLE, value: false },
  ]);
}

/** PKCS#11 2.40's answer to a copy that CKA_COPYABLE false or a policy forbids (pkcs11js 2.1 lacks the name). */
export const CKR_ACTION_PROHIBITED = 0x1b;
/** What a token answers when it cannot or will not copy a key to itself. */
const NO_COPY = new Set([pkcs11.CKR_FUNCTION_NOT_SUPPORTED, CKR_ACTION_PROHIBITED, pkcs11.CKR_ATTRIBUTE_READ_ONLY, pkcs11.CKR_ATTRIBUTE_VALUE_INVALID, pkcs11.CKR_ATTRIBUTE_TYPE_INVALID, pkcs11.CKR_TEMPLATE_INCONSISTENT]);
/** Loaded modules (one Pkcs11 per load) whose token refused such a copy: their keys are made in place. */
const copyRefused = new WeakSet<Pkcs11>();

/** Whether keys for the token behind `m` are still made in the session and copied (no copy refused yet). */
export const tokenCopies = (m: Pkcs11): boolean => !copyRefused.has(m);

/**
 * `sessionObject` copied to the token (see copyToToken), or null when the token will not copy
 * it: then, for as long as `m` stays loaded, `tokenCopies(m)` is false (logged once) and the
 * caller makes the key in place. Any other failure is thrown.
 */
export function copyToTokenIfAble(m: Pkcs11, s: Handle, sessionObject: Handle): Handle | null {
  if (copyRefused.has(m)) return null;
  try {
    return copyToToken(m, s, sessionObject);
  } catch (e) {
    if (!NO_COPY.has(ckrOf(e) ?? -1)) throw e;
    copyRefused.add(m);
    Log.warn('the hsm token does not copy a key to itself; keys are made in place from now on', { error: (e as Error).message });
    return null;
  }
}

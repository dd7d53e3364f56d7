import * as pkcs11 from 'pkcs11js';
import { Handle, Pkcs11 } from './token';
import { asSessionObject, copyToTokenIfAble, tokenCopies } from './token-copy';

/**
 * Key pairs made in the token, whatever the family (RSA, EC, SM2): every usage flag is set
 * explicitly (SoftHSM defaults unset ones to TRUE), the private key can do one thing only and
 * never leaves the token, and the public key is a session object read once and destroyed.
 */

/** The private-key usage flags; a pair's private key has exactly one of them. */
export const PRIVATE_USAGES = [pkcs11.CKA_DECRYPT, pkcs11.CKA_UNWRAP, pkcs11.CKA_SIGN, pkcs11.CKA_SIGN_RECOVER, pkcs11.CKA_DERIVE];

/** Adjusts a new key's template where it is made (wrapped storage makes session objects to wrap); `asIs` leaves it. */
export type TemplateAdapter = (template: pkcs11.Template) => pkcs11.Template;
export const asIs: TemplateAdapter = (t) => t;

/** A throwaway pair that probes try algorithms with: its private key, a session object, and the public key as SPKI DER. */
export interface ProbePair {
  privateKey: Handle;
  spki: Buffer;
}
export const PROBE_ID = Buffer.from('kms-probe');

/** Attributes set to false. */
export const off = (...types: number[]): pkcs11.Template => types.map((type) => ({ type, value: false }));

/** The private half: named `id`, sensitive, never extractable, not modifiable, able to do `usage` only. */
export function privateKeyTemplate(keyType: number, id: Buffer, label: string, persistent: boolean, usage: number): pkcs11.Template {
  return [
    { type: pkcs11.CKA_CLASS, value: pkcs11.CKO_PRIVATE_KEY },
    { type: pkcs11.CKA_KEY_TYPE, value: keyType },
    { type: pkcs11.CKA_ID, value: id },
    { type: pkcs11.CKA_LABEL, value: label },
    { type: pkcs11.CKA_TOKEN, value: persistent },
    { type: pkcs11.CKA_PRIVATE, value: true },
    { type: pkcs11.CKA_SENSITIVE, value: true },
    { type: pkcs11.CKA_EXTRACTABLE, value: false },
    { type: usage, value: true },
    ...off(...PRIVATE_USAGES.filter((u) => u !== usage), pkcs11.CKA_MODIFIABLE),
  ];
}

/** The public half, a session object; `family` holds the family's parameters and every usage flag. */
export function publicKeyTemplate(keyType: number, family: pkcs11.Template): pkcs11.Template {
  return [
    { type: pkcs11.CKA_CLASS, value: pkcs11.CKO_PUBLIC_KEY },
    { type: pkcs11.CKA_KEY_TYPE, value: keyType },
    { type: pkcs11.CKA_TOKEN, value: false },
    { type: pkcs11.CKA_PRIVATE, value: false },
    ...family,
  ];
}

/** Thrown out of a pair made in the session when the token will not copy its private key. */
class CopyRefusedError extends Error {}

/**
 * Generates a pair and reads its public key with `read`. The public half is destroyed in any
 * case; the private half too when reading fails, so nothing is left behind. Always on libuv's
 * thread pool, whatever the profile's callMode: an RSA-2048 pair takes SoftHSM 50-500 ms, for
 * which no other request should wait (the module runs with CKF_OS_LOCKING_OK). There the pair
 * is made of session objects, and a private key meant for the token is copied to it after, on
 * this thread: SoftHSM 2.6 fails a token object made on another thread (CKR_GENERAL_ERROR,
 * CKR_TEMPLATE_INCONSISTENT) while this one searches the token, which re-reads its files. A
 * token that will not copy a key gets its pairs made in place (see copyToTokenIfAble).
 */
export async function generatePair<T>(m: Pkcs11, s: Handle, mechanism: number, pub: pkcs11.Template, priv: pkcs11.Template, read: (publicKey: Handle) => T): Promise<{ privateKey: Handle; publicKey: T }> {
  const persistent = priv.some((a) => a.type === pkcs11.CKA_TOKEN && a.value === true);
  if (!persistent || !tokenCopies(m)) return generateIn(m, s, mechanism, pub, priv, read, (h) => h);
  try {
    return await generateIn(m, s, mechanism, pub, asSessionObject(priv), read, (h) => {
      const copy = copyToTokenIfAble(m, s, h);
      if (copy === null) throw new CopyRefusedError();
      return copy;
    });
  } catch (e) {
    if (!(e instanceof CopyRefusedError)) throw e;
    return generateIn(m, s, mechanism, pub, priv, read, (h) => h);
  }
}

/** `generatePair`'s work, with the private key `keep` returns (itself, or its copy on the token). */
async function generateIn<T>(m: Pkcs11, s: Handle, mechanism: number, pub: pkcs11.Template, priv: pkcs11.Template, read: (publicKey: Handle) => T, keep: (privateKey: Handle) => Handle): Promise<{ privateKey: Handle; publicKey: T }> {
  const pair = await m.C_GenerateKeyPairAsync(s, { mechanism }, pub, priv);
  let kept: Handle | undefined;
  try {
    const publicKey = read(pair.publicKey);
    kept = keep(pair.privateKey);
    return { privateKey: kept, publicKey };
  } finally {
    m.C_DestroyObject(s, pair.publicKey);
    // The session private key once copied to the token; and whenever reading or copying failed.
    if (kept !== pair.privateKey) m.C_DestroyObject(s, pair.privateKey);
  }
}

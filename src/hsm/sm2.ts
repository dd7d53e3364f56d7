import * as pkcs11 from 'pkcs11js';
import { Sm2Mechanisms } from './gm-mechanisms';
import { HsmMechanismError } from './hsm-errors';
import { PairPurpose } from './key-store';
import { TemplateAdapter, asIs, generatePair, off, privateKeyTemplate, publicKeyTemplate } from './key-pair';
import { SM2_POINT_BYTES, Sm2Ciphertext, Sm2EncodingError, encodeSm2Ciphertext, signatureToRaw } from './sm2-encoding';
import { Handle, Pkcs11 } from './token';

/**
 * SM2 inside a GM-certified token, through the vendor mechanisms its profile declares
 * (hsm-config/README.md, "GM mechanisms"). No such token is available to this project: this
 * code is written from public vendor headers and has not run against one (SoftHSM has no SM2).
 */

/** SubjectPublicKeyInfo up to the point: id-ecPublicKey with the SM2 curve, BIT STRING of 65 bytes. */
const SPKI_HEAD = Buffer.from('3059301306072a8648ce3d020106082a811ccf5501822d034200', 'hex');
const RAW_SIGNATURE_BYTES = 64;
/** Room for a DER signature (at most 72 bytes) with some to spare for tokens that want more. */
const SIGNATURE_BUFFER = 128;

/** A pair whose private key, named `id`, can do only `purpose`; returns its handle and the public key as SPKI DER. */
export async function generateSm2Pair(m: Pkcs11, s: Handle, mech: Sm2Mechanisms, id: Buffer, label: string, purpose: PairPurpose, adapt: TemplateAdapter = asIs): Promise<{ privateKey: Handle; spki: Buffer }> {
  const pub = publicKeyTemplate(mech.keyType, [
    ...(mech.ecParams ? [{ type: pkcs11.CKA_EC_PARAMS, value: mech.ecParams }] : []),
    { type: pkcs11.CKA_VERIFY, value: purpose === 'sign' },
    { type: pkcs11.CKA_ENCRYPT, value: purpose === 'decrypt' },
    ...off(pkcs11.CKA_WRAP, pkcs11.CKA_VERIFY_RECOVER, pkcs11.CKA_DERIVE),
  ]);
  const priv = adapt(privateKeyTemplate(mech.keyType, id, label, true, purpose === 'sign' ? pkcs11.CKA_SIGN : pkcs11.CKA_DECRYPT));
  const { privateKey, publicKey } = await generatePair(m, s, mech.keyPairGen, pub, priv, (handle) => {
    const [point] = m.C_GetAttributeValue(s, handle, [{ type: pkcs11.CKA_EC_POINT }]);
    // 04 || x || y, bare or inside a DER OCTET STRING (04 41 ...), as tokens differ.
    const raw = (point.value as Buffer).subarray(-SM2_POINT_BYTES);
    if (raw.length !== SM2_POINT_BYTES || raw[0] !== 0x04) throw new HsmMechanismError('the token answered no uncompressed SM2 point in CKA_EC_POINT');
    return Buffer.concat([SPKI_HEAD, raw]);
  });
  return { privateKey, spki: publicKey };
}

/**
 * r || s: of the digest e with `mech.sign`, or of the message with `mech.signWithSm3` (the
 * token computing Z and SM3) when the profile declares only that and the message is known.
 */
export function sm2Sign(m: Pkcs11, s: Handle, key: Handle, mech: Sm2Mechanisms, e: Buffer, message: Buffer | undefined): Buffer {
  const [mechanism, input] = mech.sign !== undefined ? [mech.sign, e] : [mech.signWithSm3!, message!];
  m.C_SignInit(s, { mechanism }, key);
  const sig = Buffer.from(m.C_Sign(s, input, Buffer.alloc(SIGNATURE_BUFFER)));
  if (mech.signatureFormat === 'raw') {
    if (sig.length !== RAW_SIGNATURE_BYTES) throw new HsmMechanismError(`the token answered a ${sig.length}-byte signature; the profile says r || s (64 bytes)`);
    return sig;
  }
  try {
    return signatureToRaw(sig);
  } catch (e) {
    if (e instanceof Sm2EncodingError) throw new HsmMechanismError(`the token answered a signature that is not DER (${e.message}); check gm.sm2.signatureFormat`);
    throw e;
  }
}

/** The plaintext of an SM2 ciphertext, passed to the token in the layout its profile names. */
export function sm2Decrypt(m: Pkcs11, s: Handle, key: Handle, mech: Sm2Mechanisms, c: Sm2Ciphertext): Buffer {
  const input = encodeSm2Ciphertext(c, mech.ciphertextFormat);
  m.C_DecryptInit(s, { mechanism: mech.decrypt! }, key);
  return Buffer.from(m.C_Decrypt(s, input, Buffer.alloc(input.length)));
}

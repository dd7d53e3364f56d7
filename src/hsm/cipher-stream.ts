import * as pkcs11 from 'pkcs11js';
import { GCM_IV_BYTES, GCM_TAG_BYTES } from './aes';
import { HsmDataInvalidError, HsmMechanismError, ckrOf } from './hsm-errors';
import type { StreamSpec } from './key-store';
import { Handle, Pkcs11 } from './token';

/** AES multi-part encryption and decryption (GCM, CBC, CBC with PKCS#7 padding, CTR, ECB) on a held session. */

const BLOCK = 16;

/** CK_AES_CTR_PARAMS as the module reads it: a CK_ULONG counter width (64-bit little-endian here), then the 16-byte block. */
function ctrParams(iv: Buffer): Buffer {
  const p = Buffer.alloc(8 + BLOCK);
  p.writeBigUInt64LE(128n, 0);
  iv.copy(p, 8);
  return p;
}

/** pkcs11js passes malformed parameters to the module as garbage: every one is checked here. */
export function aesMechanism(spec: StreamSpec): pkcs11.Mechanism {
  const needIv = (bytes: number) => {
    if (!('iv' in spec) || spec.iv.length !== bytes) throw new HsmMechanismError(`${spec.cipher} needs a ${bytes}-byte IV`);
    return spec.iv;
  };
  switch (spec.cipher) {
    case 'aes-gcm': {
      const iv = needIv(GCM_IV_BYTES);
      return { mechanism: pkcs11.CKM_AES_GCM, parameter: { type: pkcs11.CK_PARAMS_AES_GCM, iv, ivBits: GCM_IV_BYTES * 8, aad: spec.aad, tagBits: GCM_TAG_BYTES * 8 } as pkcs11.GcmParams };
    }
    case 'aes-cbc':
      return { mechanism: pkcs11.CKM_AES_CBC, parameter: needIv(BLOCK) };
    case 'aes-cbc-pad':
      return { mechanism: pkcs11.CKM_AES_CBC_PAD, parameter: needIv(BLOCK) };
    case 'aes-ctr':
      return { mechanism: pkcs11.CKM_AES_CTR, parameter: ctrParams(needIv(BLOCK)) };
    case 'aes-ecb':
      return { mechanism: pkcs11.CKM_AES_ECB };
    default:
      throw new HsmMechanismError(`${spec.cipher} is not an AES cipher`);
  }
}

export function cipherInit(m: Pkcs11, s: Handle, key: Handle, spec: StreamSpec): void {
  const mech = aesMechanism(spec);
  if (spec.op === 'encrypt') m.C_EncryptInit(s, mech, key);
  else m.C_DecryptInit(s, mech, key);
}

/**
 * One part. The output room is the input plus what the module holds back (`pending`):
 * SoftHSM asks for room for everything it buffered, even where (GCM decryption) it answers
 * nothing before the final call. The room is not zeroed: only the part the module wrote is returned.
 */
export function cipherUpdate(m: Pkcs11, s: Handle, encrypt: boolean, data: Buffer, pending: number): Buffer {
  // pkcs11js refuses an empty input.
  if (data.length === 0) return Buffer.alloc(0);
  const out = Buffer.allocUnsafe(data.length + pending + BLOCK);
  return Buffer.from(encrypt ? m.C_EncryptUpdate(s, data, out) : m.C_DecryptUpdate(s, data, out));
}

/**
 * Ends the operation. `pending` is what the module may still hold (GCM decryption holds
 * everything until here: SoftHSM verifies the tag before it releases any plaintext).
 */
export function cipherFinal(m: Pkcs11, s: Handle, encrypt: boolean, pending: number): Buffer {
  const out = Buffer.alloc(pending + 2 * BLOCK);
  try {
    return Buffer.from(encrypt ? m.C_EncryptFinal(s, out) : m.C_DecryptFinal(s, out));
  } catch (e) {
    // SoftHSM answers a GCM tag that does not verify with CKR_GENERAL_ERROR; on a final call of
    // a decryption that code means bad data rather than a failing token.
    if (!encrypt && ckrOf(e) === pkcs11.CKR_GENERAL_ERROR) throw new HsmDataInvalidError('C_DecryptFinal: the data does not verify', pkcs11.CKR_GENERAL_ERROR, 'C_DecryptFinal');
    throw e;
  }
}

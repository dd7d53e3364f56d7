import * as crypto from 'node:crypto';
import { sm4 } from 'sm-crypto-v2';
import { Suite } from './algorithms';
import { EncryptSDKError } from './errors';

/**
 * One frame's encryption under a suite. SM4 CBC/CTR/ECB and AES-256-GCM are Node's (OpenSSL);
 * Node has no SM4-GCM, which comes from sm-crypto-v2 (its GHASH is @noble/ciphers'). CBC and
 * ECB pad with PKCS#7, as the seed says; CTR and GCM do not pad.
 */

export interface Sealed {
  ciphertext: Buffer;
  tag: Buffer;
}

const EMPTY = Buffer.alloc(0);
const nodeName = (s: Suite): string => `${s.cipher}-${s.mode}`;

export function sealFrame(s: Suite, key: Buffer, iv: Buffer, aad: Buffer, plaintext: Uint8Array): Sealed {
  if (s.mode === 'gcm' && s.cipher === 'sm4') {
    const r = sm4.encrypt(plaintext, key, { mode: 'gcm', iv, associatedData: aad, output: 'array', outputTag: true });
    return { ciphertext: Buffer.from(r.output.buffer, r.output.byteOffset, r.output.byteLength), tag: Buffer.from(r.tag!) };
  }
  if (s.mode === 'gcm') {
    const c = crypto.createCipheriv('aes-256-gcm', key, iv);
    c.setAAD(aad);
    const ciphertext = Buffer.concat([c.update(plaintext), c.final()]);
    return { ciphertext, tag: c.getAuthTag() };
  }
  const c = crypto.createCipheriv(nodeName(s), key, s.mode === 'ecb' ? null : iv);
  return { ciphertext: Buffer.concat([c.update(plaintext), c.final()]), tag: EMPTY };
}

/** The plaintext; a wrong GCM tag or CBC/ECB padding is the seed's LocalDecryptError. */
export function openFrame(s: Suite, key: Buffer, iv: Buffer, aad: Buffer, ciphertext: Buffer, tag: Buffer): Buffer {
  try {
    if (s.mode === 'gcm' && s.cipher === 'sm4') {
      // sm-crypto-v2 checks no tag when none is given: the caller always passes 16 bytes.
      if (tag.length !== 16) throw new Error('the GCM tag is not 16 bytes');
      const out = sm4.decrypt(ciphertext, key, { mode: 'gcm', iv, associatedData: aad, tag, output: 'array' });
      return Buffer.from(out.buffer, out.byteOffset, out.byteLength);
    }
    if (s.mode === 'gcm') {
      const d = crypto.createDecipheriv('aes-256-gcm', key, iv, { authTagLength: 16 });
      d.setAAD(aad);
      d.setAuthTag(tag);
      return Buffer.concat([d.update(ciphertext), d.final()]);
    }
    const d = crypto.createDecipheriv(nodeName(s), key, s.mode === 'ecb' ? null : iv);
    return Buffer.concat([d.update(ciphertext), d.final()]);
  } catch (e) {
    throw new EncryptSDKError('LocalDecryptError', `a frame does not decrypt (${s.name}): ${(e as Error).message}`);
  }
}

/** Ciphertext length of `n` plaintext bytes: PKCS#7 adds 1..16 bytes in CBC and ECB. */
export const ciphertextLength = (s: Suite, n: number): number => (s.mode === 'cbc' || s.mode === 'ecb' ? (Math.floor(n / 16) + 1) * 16 : n);

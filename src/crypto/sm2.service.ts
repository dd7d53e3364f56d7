import { Inject, Injectable } from '@nestjs/common';
import { sm2 } from 'sm-crypto-v2';
import { Principal } from '../accounts/principal';
import { InvalidParameterError, KeyStateError, KeyUsageMismatchError, UnsupportedKeyUsageError } from '../common/domain-errors';
import { KeyStore, MaterialRef, PairPurpose } from '../hsm/key-store';
import { SM2_POINT_BYTES, Sm2Ciphertext, Sm2EncodingError, encodeSm2Ciphertext, parseSm2Ciphertext, signatureToDer, signatureToRaw, sm2Digest } from '../hsm/sm2-encoding';
import { keyKind } from '../keys/key-params';
import { KeyOperation, assertAllowed, isAllowed } from '../keys/key-states';
import { KeysService } from '../keys/keys.service';
import { DIGEST_BYTES, MAX_SIGNED_MESSAGE_BYTES, MessageType } from './asymmetric.service';

/** The longest plaintext AsymmetricSm2Encrypt takes, as documented. */
export const MAX_SM2_PLAINTEXT_BYTES = 1024;
/** The longest ciphertext decrypted: a 1024-byte plaintext's ASN.1 form, with room to spare. */
export const MAX_SM2_CIPHERTEXT_BYTES = 1536;
const RAW_SIGNATURE_BYTES = 64;
const ENCRYPTION = 'SM2 encryption';
/** sm-crypto-v2's cipherMode for C1 || C3 || C2. */
const C1C3C2 = 1;

/**
 * SM2 CMKs, which exist only on a token whose profile declares SM2 mechanisms (CreateKey
 * refuses them elsewhere, so on SoftHSM every call here ends at the key lookup). Signing and
 * decryption run in the token; encryption is a public-key operation, done here.
 */
@Injectable()
export class Sm2Service {
  constructor(private readonly keys: KeysService, @Inject(KeyStore) private readonly store: KeyStore) {}

  /**
   * The signature of a message (RAW: e = SM3(Z || M) with the default ID is computed here) or
   * of a digest e the caller computed (DIGEST, 32 bytes), as DER or r || s.
   */
  async sign(p: Principal, keyId: string, message: Buffer, type: MessageType, format: 'der' | 'raw'): Promise<Buffer> {
    checkMessage(message, type);
    const material = await this.sm2Key(p, keyId, 'sign', 'Sign', 'SM2 signing');
    const e = type === 'digest' ? message : sm2Digest(point(material), message);
    const raw = await this.store.sm2Sign(material, e, type === 'raw' ? message : undefined);
    return format === 'raw' ? raw : signatureToDer(raw);
  }

  /** Whether `signature` (DER or r || s, as `format` says) is the key's signature of the message or digest; a public-key check, done here. */
  async verify(p: Principal, keyId: string, message: Buffer, type: MessageType, format: 'der' | 'raw', signature: Buffer): Promise<boolean> {
    checkMessage(message, type);
    const material = await this.sm2Key(p, keyId, 'sign', 'Encrypt', 'SM2 verification');
    const raw = format === 'raw' ? (signature.length === RAW_SIGNATURE_BYTES ? signature : null) : derSignature(signature);
    // Not a signature in this format: it verifies nothing.
    if (!raw) return false;
    const e = type === 'digest' ? message : sm2Digest(point(material), message);
    return sm2.doVerifySignature(e, raw.toString('hex'), point(material).toString('hex'), { hash: false, der: false });
  }

  /** The plaintext of a ciphertext made with the key's public key: GM/T 0009 ASN.1 or C1 || C3 || C2. */
  async decrypt(p: Principal, keyId: string, ciphertext: Buffer): Promise<Buffer> {
    if (ciphertext.length > MAX_SM2_CIPHERTEXT_BYTES) throw new InvalidParameterError('ciphertext', (n) => `${n('ciphertext')} is longer than ${MAX_SM2_CIPHERTEXT_BYTES} bytes`);
    const parts = readCiphertext(ciphertext);
    const material = await this.sm2Key(p, keyId, 'decrypt', 'Decrypt', 'SM2 decryption');
    return this.store.sm2Decrypt(material, parts);
  }

  /** Encrypts to the key's public key, in the GM/T 0009 ASN.1 form that decrypt and OpenSSL read. */
  async encrypt(p: Principal, keyId: string, plaintext: Buffer): Promise<Buffer> {
    if (plaintext.length < 1 || plaintext.length > MAX_SM2_PLAINTEXT_BYTES) throw new InvalidParameterError('plaintext', (n) => `${n('plaintext')} is 1 to ${MAX_SM2_PLAINTEXT_BYTES} bytes`, 'plaintextTooLarge');
    const material = await this.sm2Key(p, keyId, 'decrypt', 'Encrypt', ENCRYPTION);
    const raw = Buffer.from('04' + sm2.doEncrypt(plaintext, point(material).toString('hex'), C1C3C2), 'hex');
    return encodeSm2Ciphertext(parseSm2Ciphertext(raw), 'der');
  }

  /** The caller's SM2 key of `purpose`, in a state that allows `op`, at its current version. */
  private async sm2Key(p: Principal, keyId: string, purpose: PairPurpose, op: KeyOperation, use: string): Promise<MaterialRef> {
    const rec = await this.keys.get(p, keyId);
    const kind = keyKind(rec.key.keyUsage);
    if (kind.spec !== 'sm2' || kind.purpose !== purpose) {
      // No key can be the right one where the token cannot make it: say that, rather than blame the key.
      if (!this.store.sm2Purposes().includes(purpose)) throw new UnsupportedKeyUsageError(`sm2:${purpose}`, () => `${use} is not available in region ${p.region}: its HSM has no SM2 mechanisms`);
      throw new KeyUsageMismatchError(rec.key.keyUsage, use);
    }
    if (!isAllowed(rec.key.keyState, op)) {
      // Of the SM2 actions only encryption documents a "disabled" answer; the others answer every refused state alike, as the other key pairs do.
      if (use === ENCRYPTION) assertAllowed(rec.key.keyState, op);
      throw new KeyStateError(rec.key.keyState, op);
    }
    const material = rec.versions.get(rec.key.currentVersion);
    // A record read while its material was being removed: answer like any state refusal.
    if (!material?.publicKey) throw new KeyStateError(rec.key.keyState, op);
    p.touched?.note(rec.key.keyId, rec.key.currentVersion);
    return material;
  }
}

/** r || s of a DER signature, or null if it is not one. */
function derSignature(der: Buffer): Buffer | null {
  try {
    return signatureToRaw(der);
  } catch (e) {
    if (e instanceof Sm2EncodingError) return null;
    throw e;
  }
}

function checkMessage(message: Buffer, type: MessageType): void {
  if (type === 'digest' && message.length !== DIGEST_BYTES) throw new InvalidParameterError('message', (n) => `a DIGEST ${n('message')} is exactly ${DIGEST_BYTES} bytes (SM3 of Z || M)`);
  if (type === 'raw' && (message.length < 1 || message.length > MAX_SIGNED_MESSAGE_BYTES)) throw new InvalidParameterError('message', (n) => `a RAW ${n('message')} is 1 to ${MAX_SIGNED_MESSAGE_BYTES} bytes`);
}

function readCiphertext(ciphertext: Buffer): Sm2Ciphertext {
  try {
    return parseSm2Ciphertext(ciphertext);
  } catch (e) {
    if (e instanceof Sm2EncodingError) throw new InvalidParameterError('ciphertext', (n) => `${n('ciphertext')} is not an SM2 ciphertext (GM/T 0009 ASN.1, or C1 || C3 || C2): ${e.message}`);
    throw e;
  }
}

/** The public point 04 || x || y at the end of the stored SubjectPublicKeyInfo. */
const point = (material: MaterialRef): Buffer => material.publicKey!.subarray(-SM2_POINT_BYTES);

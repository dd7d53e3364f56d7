import { Inject, Injectable } from '@nestjs/common';
import * as crypto from 'node:crypto';
import { Principal } from '../accounts/principal';
import { InvalidParameterError, InvalidSignatureError, KeyStateError, KeyUsageMismatchError, UnsupportedAlgorithmError } from '../common/domain-errors';
import { DecryptionAlgorithm, KeyStore, MaterialRef, SIGNING_SPEC, SigningAlgorithm } from '../hsm/key-store';
import { KeyPurpose, keyKind } from '../keys/key-params';
import { KeyRecord } from '../keys/key-record';
import { KeyOperation, isAllowed } from '../keys/key-states';
import { KeysService } from '../keys/keys.service';

/** The longest message signed or verified as is; its SHA-256 is computed here. */
export const MAX_SIGNED_MESSAGE_BYTES = 4096;
export const DIGEST_BYTES = 32;
/** A message as is (hashed here with SHA-256), or its SHA-256 digest. */
export type MessageType = 'raw' | 'digest';
/** RSA-2048: the longest ciphertext a decryption stream collects. */
const MAX_PAIR_CIPHERTEXT_BYTES = 256;

/** A multi-part operation with a key pair, in the core's names. */
export type PairStreamSpec = { op: 'sign' | 'verify'; algorithm: SigningAlgorithm } | { op: 'decrypt'; algorithm: DecryptionAlgorithm };

/**
 * A key-pair operation given its data in parts. Sign and verify hash the message here with
 * SHA-256 as it comes (the digest involves no key), and the token signs or verifies the digest
 * at finish, where a verification's finish takes the signature; decryption collects the one
 * RSA block and the token decrypts it at finish.
 */
export interface PairStream {
  update(data: Buffer): Buffer;
  finish(data: Buffer): Promise<Buffer>;
  abort(): void;
}

/**
 * Asymmetric CMKs: public keys, signatures and RSA decryption. Private keys stay in the token
 * and do only their usage; a key's usage is also checked here, so a misuse is answered with
 * its own error rather than a token refusal.
 */
@Injectable()
export class AsymmetricService {
  constructor(private readonly keys: KeysService, @Inject(KeyStore) private readonly store: KeyStore) {}

  /** The key's public key, SPKI DER. */
  async publicKey(p: Principal, keyId: string): Promise<Buffer> {
    const { material } = await this.pairKey(p, await this.keys.get(p, keyId), ['decrypt', 'sign'], 'Encrypt', 'GetPublicKey');
    return material.publicKey!;
  }

  async sign(p: Principal, keyId: string, algorithm: SigningAlgorithm, message: Buffer, type: MessageType): Promise<Buffer> {
    const digest = digestOf(message, type);
    const { rec, material } = await this.pairKey(p, await this.keys.get(p, keyId), ['sign'], 'Sign', 'signing');
    await this.checkSigning(rec, algorithm);
    return this.store.sign(material, algorithm, digest);
  }

  /** Whether `signature` is the key's `algorithm` signature of the message; the token compares. */
  async verify(p: Principal, keyId: string, algorithm: SigningAlgorithm, message: Buffer, type: MessageType, signature: Buffer): Promise<boolean> {
    const digest = digestOf(message, type);
    const { rec, material } = await this.pairKey(p, await this.keys.get(p, keyId), ['sign'], 'Encrypt', 'verification');
    await this.checkSigning(rec, algorithm);
    return this.store.verify(material.publicKey!, algorithm, digest, signature);
  }

  async decrypt(p: Principal, keyId: string, algorithm: DecryptionAlgorithm, ciphertext: Buffer): Promise<Buffer> {
    const { rec, material } = await this.pairKey(p, await this.keys.get(p, keyId), ['decrypt'], 'Decrypt', 'decryption');
    await this.checkDecryption(rec, algorithm);
    return this.store.decryptWithPair(material, algorithm, ciphertext);
  }

  /** A multi-part sign, verify or decrypt with the key pair under `alias` (its checks are the one-shot calls'). */
  async openStream(p: Principal, alias: string, spec: PairStreamSpec): Promise<PairStream> {
    const found = await this.keys.getByAlias(p, alias);
    if (spec.op === 'decrypt') {
      const { rec, material } = await this.pairKey(p, found, ['decrypt'], 'Decrypt', 'decryption');
      await this.checkDecryption(rec, spec.algorithm);
      const parts: Buffer[] = [];
      let length = 0;
      const collect = (data: Buffer): void => {
        length += data.length;
        if (length > MAX_PAIR_CIPHERTEXT_BYTES) throw new InvalidParameterError('inData', `an RSA-2048 ciphertext is at most ${MAX_PAIR_CIPHERTEXT_BYTES} bytes`, 'value');
        parts.push(data);
      };
      return {
        update: (data) => (collect(data), Buffer.alloc(0)),
        finish: (data) => (collect(data), this.store.decryptWithPair(material, spec.algorithm, Buffer.concat(parts))),
        abort: () => undefined,
      };
    }
    const verifying = spec.op === 'verify';
    const { rec, material } = await this.pairKey(p, found, ['sign'], verifying ? 'Encrypt' : 'Sign', verifying ? 'verification' : 'signing');
    await this.checkSigning(rec, spec.algorithm);
    const hash = crypto.createHash('sha256');
    return {
      update: (data) => (hash.update(data), Buffer.alloc(0)),
      finish: async (data) => {
        if (!verifying) return this.store.sign(material, spec.algorithm, hash.update(data).digest());
        if (!(await this.store.verify(material.publicKey!, spec.algorithm, hash.digest(), data))) throw new InvalidSignatureError(`the signature does not verify under this key with ${spec.algorithm}`);
        return Buffer.alloc(0);
      },
      abort: () => undefined,
    };
  }

  /** The caller's key, which must be a key pair of one of `purposes` in a state that allows `op`, and its current version. */
  private async pairKey(p: Principal, rec: KeyRecord, purposes: KeyPurpose[], op: KeyOperation, use: string): Promise<{ rec: KeyRecord; material: MaterialRef }> {
    if (!purposes.includes(keyKind(rec.key.keyUsage).purpose)) throw new KeyUsageMismatchError(rec.key.keyUsage, use);
    // Of every refused state, a disabled key's too, one answer: "disabled" belongs to the symmetric operations.
    if (!isAllowed(rec.key.keyState, op)) throw new KeyStateError(rec.key.keyState, op);
    const material = rec.versions.get(rec.key.currentVersion);
    // A record read while its material was being removed: answer like any state refusal.
    if (!material?.publicKey) throw new KeyStateError(rec.key.keyState, op);
    p.touched?.note(rec.key.keyId, rec.key.currentVersion);
    return { rec, material };
  }

  private async checkDecryption(rec: KeyRecord, algorithm: DecryptionAlgorithm): Promise<void> {
    if (keyKind(rec.key.keyUsage).spec !== 'rsa-2048') throw new UnsupportedAlgorithmError(`${algorithm} does not fit a ${rec.key.keyUsage} key`);
    const supported = await this.store.decryptionAlgorithms();
    if (!supported.includes(algorithm)) throw new UnsupportedAlgorithmError(`this service's HSM cannot decrypt with ${algorithm}; it supports ${supported.join(', ') || 'none'}`);
  }

  private async checkSigning(rec: KeyRecord, algorithm: SigningAlgorithm): Promise<void> {
    if (SIGNING_SPEC[algorithm] !== keyKind(rec.key.keyUsage).spec) throw new UnsupportedAlgorithmError(`${algorithm} does not fit a ${rec.key.keyUsage} key`);
    if (!(await this.store.signingAlgorithms()).includes(algorithm)) throw new UnsupportedAlgorithmError(`this service's HSM cannot sign with ${algorithm}`);
  }
}

function digestOf(message: Buffer, type: MessageType): Buffer {
  if (type === 'digest') {
    if (message.length !== DIGEST_BYTES) throw new InvalidParameterError('message', (n) => `a DIGEST ${n('message')} is exactly ${DIGEST_BYTES} bytes (SHA-256)`);
    return message;
  }
  if (message.length < 1 || message.length > MAX_SIGNED_MESSAGE_BYTES) throw new InvalidParameterError('message', (n) => `a RAW ${n('message')} is 1 to ${MAX_SIGNED_MESSAGE_BYTES} bytes`);
  return crypto.createHash('sha256').update(message).digest();
}

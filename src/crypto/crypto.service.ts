import { Inject, Injectable } from '@nestjs/common';
import * as crypto from 'node:crypto';
import { Principal } from '../accounts/principal';
import { InvalidCiphertextError, KeyStateError, InvalidParameterError, KeyUsageMismatchError } from '../common/domain-errors';
import { wipe } from '../common/wipe';
import { cmkAlgorithms } from '../hsm/cmk-algorithms';
import { KeyStore } from '../hsm/key-store';
import { Token } from '../hsm/token';
import { checkKeyId, keyKind } from '../keys/key-params';
import { KeyRecord } from '../keys/key-record';
import { assertAllowed } from '../keys/key-states';
import { KeyAlsoAction, KeysService } from '../keys/keys.service';
import { AlgorithmCatalog, algorithmCatalog } from './algorithm-catalog';
import { IV_BYTES, ParsedBlob, encodeBlob, encodeHeader, parseBlob } from './ciphertext-blob';
import { dataKeyBytes } from './data-key-spec';
import { contextAad } from './encryption-context';
import { RecipientKey } from './public-key-encryption';
import { SM2_SEED_BYTES, sm2KeyPair } from './sm2-key-pair';

export const MAX_PLAINTEXT_BYTES = 4096;
export const MAX_RANDOM_BYTES = 1024;

export interface ReEncryptRequest {
  blob: Buffer;
  /** Absent: the blob's own key. */
  destinationKeyId?: string;
  sourceContext?: string;
  destinationContext?: string;
}

export interface ReEncryptResult {
  blob: Buffer;
  keyId: string;
  sourceKeyId: string;
  /** False when the blob already was what re-encryption would make (same key, current version, same context), and is answered unchanged. */
  reEncrypted: boolean;
}

export interface DataKeyRequest {
  keyId: string;
  keySpec?: string;
  numberOfBytes?: number;
  context?: string;
  /** When given, the plaintext data key is answered encrypted to this key. */
  recipient?: RecipientKey;
}

/** Key pairs the service makes and hands out without keeping them (the core's names; faces map theirs). */
export const KEY_PAIR_SPECS = ['sm2'] as const;
export type KeyPairSpec = (typeof KEY_PAIR_SPECS)[number];

export interface KeyPairRequest {
  /** The CMK that seals the private key for the caller to keep. */
  keyId: string;
  spec: KeyPairSpec;
  /** When given, the private key is answered encrypted to this key. */
  recipient?: RecipientKey;
}

export interface KeyPair {
  keyId: string;
  publicPem: string;
  /** The PKCS#8 PEM, or it encrypted to the recipient; the caller wipes it. */
  privateKey: Buffer;
  /** The PKCS#8 PEM sealed like Encrypt's ciphertexts (no encryption context), which Decrypt opens. */
  blob: Buffer;
}

/**
 * What a caller is answered: the plaintext itself, which the caller wipes once it has
 * answered it, or the plaintext encrypted to the caller's public key, the plaintext wiped here.
 */
function forCaller(plaintext: Buffer, recipient: RecipientKey | undefined): Buffer {
  if (!recipient) return plaintext;
  try {
    return recipient.encrypt(plaintext);
  } finally {
    wipe(plaintext);
  }
}

/**
 * Encrypt, Decrypt and data keys with a CMK inside the token. The AAD is the blob header followed by
 * the canonical encryption context, so a ciphertext opens only under its own key, version
 * and context. The IV is 96 random bits per call: with at most 2^32 messages per key
 * version the chance of a repeat stays below 2^-32, as NIST SP 800-38D requires.
 */
@Injectable()
export class CryptoService {
  constructor(private readonly keys: KeysService, @Inject(KeyStore) private readonly store: KeyStore, private readonly token: Token) {}

  async encrypt(p: Principal, keyId: string, plaintext: Buffer, context?: string): Promise<{ keyId: string; blob: Buffer }> {
    if (plaintext.length > MAX_PLAINTEXT_BYTES) throw new InvalidParameterError('plaintext', (n) => `${n('plaintext')} is larger than ${MAX_PLAINTEXT_BYTES} bytes`, 'plaintextTooLarge');
    const ctx = contextAad(context);
    const rec = await this.encryptionKey(p, keyId);
    return { keyId, blob: await this.seal(p, rec, ctx, plaintext) };
  }

  async decrypt(p: Principal, blob: Buffer, context?: string, recipient?: RecipientKey): Promise<{ keyId: string; plaintext: Buffer }> {
    const ctx = contextAad(context);
    const parsed = parseBlob(blob);
    const rec = await this.blobKey(p, parsed);
    assertAllowed(rec.key.keyState, 'Decrypt');
    const plaintext = await this.open(p, rec, parsed, ctx);
    return { keyId: parsed.keyId, plaintext: forCaller(plaintext, recipient) };
  }

  /**
   * Opens the blob (the caller must be allowed to decrypt with the source key and encrypt
   * with the destination, besides ReEncrypt on both: otherwise ReEncrypt to a key it may
   * decrypt with would bypass a denied Decrypt; the source key must allow Decrypt, and the
   * source context must be the one it was sealed with) and seals the plaintext under the destination key's newest
   * version and the destination context. Both keys are looked up before the token is used.
   * The blob is always opened, so a wrong context or a forged blob never passes unnoticed,
   * even when it is answered unchanged.
   */
  async reEncrypt(p: Principal, req: ReEncryptRequest): Promise<ReEncryptResult> {
    if (req.destinationKeyId !== undefined) checkKeyId(req.destinationKeyId, 'destinationKeyId');
    const srcCtx = contextAad(req.sourceContext, 'sourceEncryptionContext');
    const dstCtx = contextAad(req.destinationContext, 'destinationEncryptionContext');
    const parsed = parseBlob(req.blob);
    const src = await this.blobKey(p, parsed, 'Decrypt');
    assertAllowed(src.key.keyState, 'Decrypt');
    const sameKey = req.destinationKeyId === undefined || req.destinationKeyId === src.key.keyId;
    const dst = sameKey ? src : await this.keys.get(p, req.destinationKeyId!, 'Encrypt');
    if (keyKind(dst.key.keyUsage).purpose !== 'encrypt-decrypt') throw new KeyUsageMismatchError(dst.key.keyUsage, 'symmetric encryption');
    if (sameKey) this.keys.authorizeAlso(p, src, 'Encrypt');
    assertAllowed(dst.key.keyState, 'Encrypt');
    const plaintext = await this.open(p, src, parsed, srcCtx);
    try {
      const unchanged = dst.key.keyId === src.key.keyId && parsed.keyVersion === dst.key.currentVersion && srcCtx.equals(dstCtx);
      const blob = unchanged ? req.blob : await this.seal(p, dst, dstCtx, plaintext);
      return { blob, keyId: dst.key.keyId, sourceKeyId: parsed.keyId, reEncrypted: !unchanged };
    } finally {
      wipe(plaintext);
    }
  }

  /**
   * A data key from the token's generator, and its CiphertextBlob sealed exactly as Encrypt
   * seals (current key version, same AAD), so that Decrypt opens it.
   */
  async generateDataKey(p: Principal, req: DataKeyRequest): Promise<{ keyId: string; plaintext: Buffer; blob: Buffer }> {
    const bytes = dataKeyBytes(req.keySpec, req.numberOfBytes);
    req.recipient?.assertFits(bytes);
    const ctx = contextAad(req.context);
    const rec = await this.encryptionKey(p, req.keyId);
    const dataKey = await this.store.random(bytes);
    const blob = await this.seal(p, rec, ctx, dataKey).catch((e: unknown) => {
      wipe(dataKey);
      throw e;
    });
    return { keyId: req.keyId, plaintext: forCaller(dataKey, req.recipient), blob };
  }

  /**
   * A key pair from the token's generator that the service does not keep: the private key is
   * answered once, and sealed under the CMK for the caller to store.
   */
  async generateKeyPair(p: Principal, req: KeyPairRequest): Promise<KeyPair> {
    const rec = await this.encryptionKey(p, req.keyId);
    const pair = sm2KeyPair(await this.store.random(SM2_SEED_BYTES));
    try {
      req.recipient?.assertFits(pair.privatePem.length);
      const blob = await this.seal(p, rec, contextAad(undefined), pair.privatePem);
      return { keyId: req.keyId, publicPem: pair.publicPem, privateKey: forCaller(pair.privatePem, req.recipient), blob };
    } catch (e) {
      wipe(pair.privatePem);
      throw e;
    }
  }

  async random(bytes: number): Promise<Buffer> {
    if (!Number.isInteger(bytes) || bytes < 1 || bytes > MAX_RANDOM_BYTES) throw new InvalidParameterError('randomBytes', (n) => `${n('randomBytes')} must be 1..${MAX_RANDOM_BYTES}`);
    return this.store.random(bytes);
  }

  /** The CMK algorithms this deployment offers, as its token supports them. */
  algorithms(): Promise<AlgorithmCatalog> {
    return algorithmCatalog(cmkAlgorithms(this.token), this.store);
  }

  private async encryptionKey(p: Principal, keyId: string): Promise<KeyRecord> {
    const rec = await this.keys.get(p, keyId);
    if (keyKind(rec.key.keyUsage).purpose !== 'encrypt-decrypt') throw new KeyUsageMismatchError(rec.key.keyUsage, 'symmetric encryption');
    assertAllowed(rec.key.keyState, 'Encrypt');
    return rec;
  }

  /**
   * The key a blob names. A blob naming a version newer than the cached record comes from a
   * rotation in another process that this one's change feed has not reported yet: read the
   * key from the database rather than call a good ciphertext invalid.
   */
  private async blobKey(p: Principal, parsed: ParsedBlob, also?: KeyAlsoAction): Promise<KeyRecord> {
    const rec = await this.keys.get(p, parsed.keyId, also);
    // No ciphertext blob is ever made under a key pair: one naming such a key is forged.
    if (keyKind(rec.key.keyUsage).purpose !== 'encrypt-decrypt') throw new InvalidCiphertextError('the ciphertext does not verify under this key and encryption context');
    return parsed.keyVersion > rec.key.currentVersion ? this.keys.getUncached(p, parsed.keyId) : rec;
  }

  /** The blob's plaintext, from the key version the blob names. */
  private open(p: Principal, rec: KeyRecord, parsed: ParsedBlob, ctx: Buffer): Promise<Buffer> {
    const material = rec.versions.get(parsed.keyVersion);
    if (!material) throw new InvalidCiphertextError('the ciphertext names a key version that does not exist');
    p.touched?.note(rec.key.keyId, parsed.keyVersion);
    return this.store.decrypt(material, parsed.iv, Buffer.concat([parsed.header, ctx]), parsed.sealed);
  }

  private async seal(p: Principal, rec: KeyRecord, ctx: Buffer, plaintext: Buffer): Promise<Buffer> {
    const version = rec.key.currentVersion;
    const material = rec.versions.get(version);
    // A record read while its material was being removed: answer like any state refusal.
    if (!material) throw new KeyStateError(rec.key.keyState, 'Encrypt');
    p.touched?.note(rec.key.keyId, version);
    const header = encodeHeader(rec.key.keyId, version);
    const iv = crypto.randomBytes(IV_BYTES);
    const sealed = await this.store.encrypt(material, iv, Buffer.concat([header, ctx]), plaintext);
    return encodeBlob(header, iv, sealed);
  }
}

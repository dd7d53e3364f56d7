import { Inject, Injectable } from '@nestjs/common';
import * as crypto from 'node:crypto';
import { Principal } from '../accounts/principal';
import { InvalidCiphertextError, InvalidParameterError } from '../common/domain-errors';
import { KeyStore } from '../hsm/key-store';
import { assertAllowed } from '../keys/key-states';
import { KeysService } from '../keys/keys.service';
import { IV_BYTES, encodeBlob, encodeHeader, parseBlob } from './ciphertext-blob';
import { contextAad } from './encryption-context';

export const MAX_PLAINTEXT_BYTES = 4096;
export const MAX_RANDOM_BYTES = 1024;

/**
 * Encrypt and Decrypt with a CMK inside the token. The AAD is the blob header followed by
 * the canonical encryption context, so a ciphertext opens only under its own key, version
 * and context. The IV is 96 random bits per call: with at most 2^32 messages per key
 * version the chance of a repeat stays below 2^-32, as NIST SP 800-38D requires.
 */
@Injectable()
export class CryptoService {
  constructor(private readonly keys: KeysService, @Inject(KeyStore) private readonly store: KeyStore) {}

  async encrypt(p: Principal, keyId: string, plaintext: Buffer, context?: string): Promise<{ keyId: string; blob: Buffer }> {
    if (plaintext.length > MAX_PLAINTEXT_BYTES) throw new InvalidParameterError('Plaintext', `Plaintext is larger than ${MAX_PLAINTEXT_BYTES} bytes`, 'plaintext');
    const ctx = contextAad(context);
    const rec = await this.keys.get(p, keyId);
    assertAllowed(rec.key.keyState, 'Encrypt');
    const version = rec.key.currentVersion;
    const material = rec.versions.get(version)!;
    const header = encodeHeader(keyId, version);
    const iv = crypto.randomBytes(IV_BYTES);
    const sealed = await this.store.encrypt(material, iv, Buffer.concat([header, ctx]), plaintext);
    return { keyId, blob: encodeBlob(header, iv, sealed) };
  }

  async decrypt(p: Principal, blob: Buffer, context?: string): Promise<{ keyId: string; plaintext: Buffer }> {
    const ctx = contextAad(context);
    const parsed = parseBlob(blob);
    const rec = await this.keys.get(p, parsed.keyId);
    assertAllowed(rec.key.keyState, 'Decrypt');
    const material = rec.versions.get(parsed.keyVersion);
    if (!material) throw new InvalidCiphertextError('the ciphertext names a key version that does not exist');
    const plaintext = await this.store.decrypt(material, parsed.iv, Buffer.concat([parsed.header, ctx]), parsed.sealed);
    return { keyId: parsed.keyId, plaintext };
  }

  async random(bytes: number): Promise<Buffer> {
    if (!Number.isInteger(bytes) || bytes < 1 || bytes > MAX_RANDOM_BYTES) throw new InvalidParameterError('NumberOfBytes', `NumberOfBytes must be 1..${MAX_RANDOM_BYTES}`);
    return this.store.random(bytes);
  }
}

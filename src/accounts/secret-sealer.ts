import { Inject, Injectable } from '@nestjs/common';
import * as crypto from 'node:crypto';
import { KeyStore, MaterialRef } from '../hsm/key-store';

const SEAL_KEY: MaterialRef = { id: 'kms-credential-seal-v1' };
const PREFIX = 'v1:';

/**
 * Seals SecretKeys with an AES-256 key that never leaves the token, so the database alone
 * reveals no credential. The SecretId is bound as AAD: a sealed value cannot be moved to
 * another credential row.
 */
@Injectable()
export class SecretSealer {
  constructor(@Inject(KeyStore) private readonly store: KeyStore) {}

  /** Creates the sealing key on first use. Called once at start, before any worker forks. */
  async ensureKey(): Promise<void> {
    if (!(await this.store.exists(SEAL_KEY))) await this.store.createAes(SEAL_KEY, 'kms credential seal', 32);
  }

  async seal(secretId: string, secret: string): Promise<string> {
    const iv = crypto.randomBytes(12);
    const ct = await this.store.encrypt(SEAL_KEY, iv, Buffer.from(secretId), Buffer.from(secret, 'utf8'));
    return PREFIX + Buffer.concat([iv, ct]).toString('base64');
  }

  async unseal(secretId: string, sealed: string): Promise<string> {
    if (!sealed.startsWith(PREFIX)) throw new Error(`credential ${secretId} has an unknown seal format`);
    const raw = Buffer.from(sealed.slice(PREFIX.length), 'base64');
    const pt = await this.store.decrypt(SEAL_KEY, raw.subarray(0, 12), Buffer.from(secretId), raw.subarray(12));
    return pt.toString('utf8');
  }
}

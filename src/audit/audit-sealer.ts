import { Inject, Injectable } from '@nestjs/common';
import { KeyStore, MaterialRef } from '../hsm/key-store';

const SEAL_KEY: MaterialRef = { id: 'kms-audit-seal-v1' };

/**
 * MACs chain starts and heads with an HMAC-SHA256 key that never leaves the token: whoever
 * can write the database but not use the token cannot rewrite a chain and seal it again.
 */
@Injectable()
export class AuditSealer {
  constructor(@Inject(KeyStore) private readonly store: KeyStore) {}

  /** Creates the key on first use. Called once at start, before any worker forks. */
  async ensureKey(): Promise<void> {
    if (!(await this.store.exists(SEAL_KEY))) await this.store.createMacKey(SEAL_KEY, 'kms audit seal');
  }

  async seal(message: Buffer): Promise<string> {
    return (await this.store.mac(SEAL_KEY, message)).toString('hex');
  }

  async verify(message: Buffer, mac: string): Promise<boolean> {
    if (!/^[0-9a-f]{64}$/.test(mac)) return false;
    return this.store.verifyMac(SEAL_KEY, message, Buffer.from(mac, 'hex'));
  }
}

import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { bigintNumber } from '../persistence/columns';

/** An API key pair (SecretId and SecretKey, for signed requests) or an access token (a bearer secret that expires). */
export type CredentialKind = 'key' | 'token';

@Entity('credentials')
@Index('idx_credentials_uin', ['uin'])
export class CredentialEntity {
  @PrimaryColumn({ name: 'secret_id', type: 'varchar', length: 64 })
  secretId: string;

  @Column({ type: 'varchar', length: 20 })
  uin: string;

  /** The sub-user these credentials belong to; null for the account's root credentials. */
  @Column({ name: 'sub_uin', type: 'varchar', length: 20, nullable: true })
  subUin: string | null;

  /**
   * A key pair's SecretKey sealed (AES-GCM) by the HSM's credential key, base64 (signatures
   * need it back); an access token's secret as its SHA-256 digest (only compared). Never plaintext.
   */
  @Column({ name: 'sealed_secret', type: 'text' })
  sealedSecret: string;

  @Column({ type: 'varchar', length: 16, default: 'key' })
  kind: CredentialKind;

  /** When an access token lapses (seconds, by the service's Clock); null for key pairs. */
  @Column({ name: 'expires_at', type: 'bigint', nullable: true, transformer: bigintNumber })
  expiresAt: number | null;

  @Column({ type: 'varchar', length: 16 })
  status: 'Active' | 'Disabled';

  @Column({ name: 'created_at', type: 'bigint', transformer: bigintNumber })
  createdAt: number;

  /** When a request it signed last passed authentication (seconds), to within a minute; null if never. */
  @Column({ name: 'last_used_at', type: 'bigint', nullable: true, transformer: bigintNumber })
  lastUsedAt: number | null;
}

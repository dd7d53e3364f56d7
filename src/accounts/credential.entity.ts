import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { bigintNumber } from '../persistence/columns';

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

  /** The SecretKey sealed (AES-GCM) by the token's credential key, base64; never plaintext. */
  @Column({ name: 'sealed_secret', type: 'text' })
  sealedSecret: string;

  @Column({ type: 'varchar', length: 16 })
  status: 'Active' | 'Disabled';

  @Column({ name: 'created_at', type: 'bigint', transformer: bigintNumber })
  createdAt: number;

  /** When a request it signed last passed authentication (seconds), to within a minute; null if never. */
  @Column({ name: 'last_used_at', type: 'bigint', nullable: true, transformer: bigintNumber })
  lastUsedAt: number | null;
}

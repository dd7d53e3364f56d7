import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { bigintNumber } from '../persistence/columns';

/** One generation of a CMK's material. `id` is also the token object's CKA_ID. */
@Entity('cmk_versions')
@Index('uq_cmk_versions', ['keyId', 'version'], { unique: true })
export class KeyVersionEntity {
  @PrimaryColumn({ type: 'varchar', length: 36 })
  id: string;

  @Column({ name: 'key_id', type: 'varchar', length: 36 })
  keyId: string;

  @Column({ type: 'integer' })
  version: number;

  /** Wrapped material for the wrapped storage mode; null for token-resident material. */
  @Column({ type: 'text', nullable: true })
  wrapped: string | null;

  /** A key pair's public key, SubjectPublicKeyInfo DER in base64; null for secret keys. */
  @Column({ name: 'public_key', type: 'text', nullable: true })
  publicKey: string | null;

  @Column({ name: 'created_at', type: 'bigint', transformer: bigintNumber })
  createdAt: number;
}

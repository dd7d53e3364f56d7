import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { bigintNumber } from '../../persistence/columns';

/**
 * v1-signed requests seen inside the replay window, shared by every instance. `nonce` keeps
 * its name from when it held `Timestamp:Nonce`; it now holds a digest of Timestamp, Nonce and
 * signature (see NonceStore), which fits the same 32 characters.
 */
@Entity('v1_nonces')
@Index('idx_v1_nonces_at', ['at'])
export class V1NonceEntity {
  @PrimaryColumn({ name: 'secret_id', type: 'varchar', length: 64 })
  secretId: string;

  @PrimaryColumn({ type: 'varchar', length: 32 })
  nonce: string;

  @Column({ type: 'bigint', transformer: bigintNumber })
  at: number;
}

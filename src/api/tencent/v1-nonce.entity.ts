import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { bigintNumber } from '../../persistence/columns';

/** Nonces of v1-signed requests seen inside the replay window, shared by every instance. */
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

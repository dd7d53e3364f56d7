import { Column, Entity, PrimaryColumn } from 'typeorm';
import { bigintNumber } from '../persistence/columns';

/**
 * One writer's chain: where it starts (genesis, or the checkpoint where retention cut it) and
 * its latest sealed head, each with a MAC computed in the token.
 */
@Entity('audit_chains')
export class AuditChainEntity {
  @PrimaryColumn({ type: 'varchar', length: 36 })
  writer: string;

  @Column({ name: 'started_at', type: 'bigint', transformer: bigintNumber })
  startedAt: number;

  /** The sequence number before the first kept record (0 at genesis). */
  @Column({ name: 'base_seq', type: 'bigint', transformer: bigintNumber })
  baseSeq: number;

  /** The hash the record base_seq + 1 chains from. */
  @Column({ name: 'base_hash', type: 'varchar', length: 64 })
  baseHash: string;

  @Column({ name: 'base_mac', type: 'varchar', length: 64 })
  baseMac: string;

  @Column({ name: 'head_seq', type: 'bigint', transformer: bigintNumber })
  headSeq: number;

  @Column({ name: 'head_hash', type: 'varchar', length: 64 })
  headHash: string;

  @Column({ name: 'head_at', type: 'bigint', transformer: bigintNumber })
  headAt: number;

  @Column({ name: 'head_mac', type: 'varchar', length: 64 })
  headMac: string;
}

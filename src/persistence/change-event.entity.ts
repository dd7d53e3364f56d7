import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';
import { bigintNumber } from './columns';

/** One row per change to cached state; every instance polls these to invalidate its caches. */
@Entity('change_events')
export class ChangeEventEntity {
  @PrimaryGeneratedColumn({ type: 'integer' })
  seq: number;

  /** 'key', 'credential', 'user' or 'account'. */
  @Column({ type: 'varchar', length: 16 })
  kind: string;

  @Column({ type: 'varchar', length: 64 })
  ref: string;

  @Column({ type: 'bigint', transformer: bigintNumber })
  at: number;
}

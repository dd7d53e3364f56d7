import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { bigintNumber } from '../persistence/columns';

/** A sub-user of an account, with its own credentials and a policy narrowing its rights. */
@Entity('users')
@Index('idx_users_uin', ['uin'])
export class UserEntity {
  @PrimaryColumn({ name: 'sub_uin', type: 'varchar', length: 20 })
  subUin: string;

  @Column({ type: 'varchar', length: 20 })
  uin: string;

  @Column({ type: 'varchar', length: 64 })
  name: string;

  /** The policy document (JSON, version 2.0); an empty statement list grants nothing. */
  @Column({ type: 'text' })
  policy: string;

  @Column({ name: 'created_at', type: 'bigint', transformer: bigintNumber })
  createdAt: number;
}

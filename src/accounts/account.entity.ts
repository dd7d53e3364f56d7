import { Column, Entity, PrimaryColumn } from 'typeorm';
import { bigintNumber } from '../persistence/columns';

@Entity('accounts')
export class AccountEntity {
  /** The account's numeric id, as a decimal string (faces call it Uin, project owner, ...). */
  @PrimaryColumn({ type: 'varchar', length: 20 })
  uin: string;

  @Column({ type: 'varchar', length: 64 })
  name: string;

  @Column({ name: 'created_at', type: 'bigint', transformer: bigintNumber })
  createdAt: number;

  /** A disabled account's credentials, its sub-users' included, all stop working. */
  @Column({ type: 'varchar', length: 16, default: 'Active' })
  status: 'Active' | 'Disabled';
}

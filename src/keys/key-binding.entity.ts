import { Column, Entity, PrimaryColumn } from 'typeorm';
import { bigintNumber } from '../persistence/columns';

/** A cloud product's resource that uses a CMK (BindCloudResource); a bound key stays usable. */
@Entity('cmk_bindings')
export class KeyBindingEntity {
  @PrimaryColumn({ name: 'key_id', type: 'varchar', length: 36 })
  keyId: string;

  @PrimaryColumn({ name: 'product_id', type: 'varchar', length: 64 })
  productId: string;

  @PrimaryColumn({ name: 'resource_id', type: 'varchar', length: 255 })
  resourceId: string;

  @Column({ name: 'created_at', type: 'bigint', transformer: bigintNumber })
  createdAt: number;
}

import { Column, Entity, PrimaryColumn } from 'typeorm';

/** One tag of a CMK; a table of its own so that ListKeyDetail can filter by tag in SQL. */
@Entity('cmk_tags')
export class KeyTagEntity {
  @PrimaryColumn({ name: 'key_id', type: 'varchar', length: 36 })
  keyId: string;

  @PrimaryColumn({ name: 'tag_key', type: 'varchar', length: 127 })
  tagKey: string;

  @Column({ name: 'tag_value', type: 'varchar', length: 255 })
  tagValue: string;
}

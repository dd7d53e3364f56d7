import { Column, Entity, Index, PrimaryColumn, ValueTransformer } from 'typeorm';
import { bigintNumber } from '../persistence/columns';

export type KeyStandard = 'FIPS' | 'GM';
const STANDARD_NUMBERS: Record<KeyStandard, number> = { FIPS: 2, GM: 4 };
/** Rows made before the column was named for its meaning hold 2 (FIPS) or 4 (GM): kept, so no data changes. */
const standardColumn: ValueTransformer = {
  to: (v: KeyStandard | undefined) => (v === undefined ? v : STANDARD_NUMBERS[v]),
  from: (v: number | null) => (v === 4 ? 'GM' : 'FIPS'),
};

@Entity('cmks')
@Index('uq_cmks_alias', ['uin', 'region', 'alias'], { unique: true })
@Index('idx_cmks_owner', ['uin', 'region', 'createdAt'])
export class KeyEntity {
  @PrimaryColumn({ name: 'key_id', type: 'varchar', length: 36 })
  keyId: string;

  @Column({ type: 'varchar', length: 20 })
  uin: string;

  @Column({ name: 'creator_uin', type: 'varchar', length: 20 })
  creatorUin: string;

  @Column({ type: 'varchar', length: 64 })
  region: string;

  @Column({ type: 'varchar', length: 60 })
  alias: string;

  @Column({ type: 'text' })
  description: string;

  @Column({ name: 'key_state', type: 'varchar', length: 24 })
  keyState: string;

  /** One of KEY_USAGES, the core's names (each face maps its own). */
  @Column({ name: 'key_usage', type: 'varchar', length: 40 })
  keyUsage: string;

  /** The material's algorithm and size: one of KEY_SPECS for a secret key, the pair's spec for a key pair. */
  @Column({ name: 'key_spec', type: 'varchar', length: 16, default: 'aes-256' })
  keySpec: string;

  /** One of KEY_ORIGINS. */
  @Column({ type: 'varchar', length: 16 })
  origin: string;

  /** The standard the key follows; the column keeps the numbers it has always stored. */
  @Column({ name: 'type', type: 'integer', transformer: standardColumn })
  standard: KeyStandard;

  @Column({ type: 'varchar', length: 32 })
  owner: string;

  /** A default key: made by the operator for a service, never modified or deleted, outside the quota. */
  @Column({ name: 'is_default', type: 'boolean', default: false })
  isDefault: boolean;

  @Column({ name: 'created_at', type: 'bigint', transformer: bigintNumber })
  createdAt: number;

  @Column({ name: 'deletion_date', type: 'bigint', transformer: bigintNumber, default: 0 })
  deletionDate: number;

  @Column({ name: 'valid_to', type: 'bigint', transformer: bigintNumber, default: 0 })
  validTo: number;

  @Column({ name: 'rotation_enabled', type: 'boolean', default: false })
  rotationEnabled: boolean;

  @Column({ name: 'rotate_days', type: 'integer', default: 0 })
  rotateDays: number;

  @Column({ name: 'next_rotate_time', type: 'bigint', transformer: bigintNumber, default: 0 })
  nextRotateTime: number;

  @Column({ name: 'last_rotate_time', type: 'bigint', transformer: bigintNumber, default: 0 })
  lastRotateTime: number;

  /**
   * For imported keys: a value computed inside the token from the imported material (never
   * the material itself), so that a re-import can be checked to bring the same material.
   */
  @Column({ name: 'material_check', type: 'varchar', length: 128, nullable: true })
  materialCheck: string | null;

  /** The version Encrypt uses; 0 while an imported key awaits material. */
  @Column({ name: 'current_version', type: 'integer', default: 0 })
  currentVersion: number;

  @Column({ name: 'updated_at', type: 'bigint', transformer: bigintNumber })
  updatedAt: number;
}

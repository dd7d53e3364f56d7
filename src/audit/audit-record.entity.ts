import { Column, Entity, PrimaryColumn } from 'typeorm';
import { bigintNumber } from '../persistence/columns';

/** One recorded call, a link of its writer's hash chain. Column lengths: see FIELD_LIMITS. */
@Entity('audit_records')
export class AuditRecordEntity {
  @PrimaryColumn({ type: 'varchar', length: 36 })
  writer: string;

  @PrimaryColumn({ type: 'bigint', transformer: bigintNumber })
  seq: number;

  /** Milliseconds since the epoch, by the service's clock. */
  @Column({ type: 'bigint', transformer: bigintNumber })
  at: number;

  @Column({ type: 'varchar', length: 16 })
  face: string;

  @Column({ type: 'varchar', length: 64 })
  action: string;

  @Column({ type: 'varchar', length: 20, nullable: true })
  account: string | null;

  @Column({ name: 'sub_user', type: 'varchar', length: 20, nullable: true })
  subUser: string | null;

  @Column({ name: 'secret_id', type: 'varchar', length: 64, nullable: true })
  secretId: string | null;

  /** Space-separated `keyId` or `keyId/vN` (the version used). */
  @Column({ type: 'text', nullable: true })
  keys: string | null;

  @Column({ name: 'request_id', type: 'varchar', length: 64, nullable: true })
  requestId: string | null;

  @Column({ type: 'varchar', length: 64, nullable: true })
  source: string | null;

  @Column({ name: 'client_cert', type: 'varchar', length: 256, nullable: true })
  clientCert: string | null;

  /** `Success` or the error code answered. */
  @Column({ type: 'varchar', length: 96 })
  result: string;

  @Column({ name: 'duration_ms', type: 'integer' })
  durationMs: number;

  /** SHA-256 (hex) over the previous record's hash and this record's canonical form. */
  @Column({ type: 'varchar', length: 64 })
  hash: string;
}

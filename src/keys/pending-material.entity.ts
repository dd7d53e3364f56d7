import { Column, Entity, PrimaryColumn } from 'typeorm';
import { bigintNumber } from '../persistence/columns';

/**
 * A token object about to be made whose owning row is not written yet (a CMK version, an
 * import wrapping key): noted before the token call, removed in the transaction that writes
 * the owner. What a crash leaves here tells the reconciler which objects were in flight.
 */
@Entity('pending_materials')
export class PendingMaterialEntity {
  /** The object's CKA_ID. */
  @PrimaryColumn({ type: 'varchar', length: 64 })
  id: string;

  /** Real time (ms) the note was written. */
  @Column({ name: 'started_at', type: 'bigint', transformer: bigintNumber })
  startedAt: number;
}

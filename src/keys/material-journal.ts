import { Inject, Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { ServiceUnavailableError } from '../common/domain-errors';
import { PendingMaterialEntity } from './pending-material.entity';

/**
 * Notes of token objects in flight, so that a crash between making an object and writing
 * the row that owns it leaves a trace the reconciler can judge (TokenReconciler). Every
 * object the service makes for a row goes: `begin(id)`, the token call, then `settle(m, id)`
 * inside the transaction that writes the owner; a failed attempt destroys its object and
 * calls `drop(id)`.
 */
@Injectable()
export class MaterialJournal {
  constructor(@Inject(DataSource) private readonly ds: DataSource) {}

  /** Before the token call. */
  async begin(id: string): Promise<void> {
    await this.ds.transaction((m) => m.insert(PendingMaterialEntity, { id, startedAt: Date.now() }));
  }

  /**
   * In the owner's transaction. Throws (rolling it back) if the note is gone: the reconciler
   * judged the attempt abandoned, after its grace period, and destroyed the object.
   */
  async settle(m: EntityManager, id: string): Promise<void> {
    const r = await m.delete(PendingMaterialEntity, { id });
    if (r.affected !== 1) throw new ServiceUnavailableError('the operation took longer than the token reconciler waits for it, and its material was removed; retry');
  }

  /** After a failed attempt (its object destroyed, or never made). A note left behind is cleared by the reconciler. */
  async drop(id: string): Promise<void> {
    await this.ds.transaction((m) => m.delete(PendingMaterialEntity, { id })).catch(() => undefined);
  }
}

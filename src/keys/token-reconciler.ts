import { Inject, Injectable } from '@nestjs/common';
import { DataSource, In } from 'typeorm';
import { KMS_CONFIG, KmsConfig } from '../config/config';
import { KeyStore, TokenObject } from '../hsm/key-store';
import { ImportParametersEntity } from '../import/import-parameters.entity';
import { KeyVersionEntity } from './key-version.entity';
import { PendingMaterialEntity } from './pending-material.entity';

export interface ReconcileReport {
  /** Objects the service made that no row owns and no attempt in flight holds. */
  orphans: TokenObject[];
  /** The orphans destroyed (with `fix`). */
  removed: TokenObject[];
  /** Objects of attempts still within the grace period: left alone. */
  inFlight: number;
}

/** The labels the service gives the objects it makes for rows: CMK versions and import wrapping keys. */
const SERVICE_LABEL = /^(cmk [0-9a-f-]{36} v\d+|kms import [0-9a-f-]{36})$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const CHUNK = 500;

/**
 * Finds (and with `fix` destroys) token objects that no database row owns: what a crash
 * leaves between making an object and writing its row, or between removing a row and
 * destroying its object. Only objects the service names and labels as its own are judged
 * (never its service keys, nor anything else on a shared token). An object whose attempt is
 * noted in flight (MaterialJournal) is left alone for the grace period; past it the note is
 * taken first, so that the attempt, should it still commit, is refused and the key never
 * gets a row without its object.
 */
@Injectable()
export class TokenReconciler {
  constructor(
    @Inject(DataSource) private readonly ds: DataSource,
    @Inject(KeyStore) private readonly store: KeyStore,
    @Inject(KMS_CONFIG) private readonly cfg: KmsConfig,
  ) {}

  async reconcile(fix: boolean): Promise<ReconcileReport> {
    const objects = (await this.store.objects()).filter((o) => UUID.test(o.id) && SERVICE_LABEL.test(o.label));
    // Read after the listing, notes before owners: a listed object was noted before it was
    // made, and its note goes in the same transaction that writes its owner.
    const pending = new Map((await this.ds.getRepository(PendingMaterialEntity).find()).map((p) => [p.id, p.startedAt]));
    const owned = await this.owned(objects.map((o) => o.id));
    const cutoff = Date.now() - this.cfg.tokenReconcile.graceMs;
    const report: ReconcileReport = { orphans: [], removed: [], inFlight: 0 };
    for (const o of objects) {
      if (owned.has(o.id)) continue;
      const started = pending.get(o.id);
      if (started !== undefined && started > cutoff) {
        report.inFlight++;
        continue;
      }
      report.orphans.push(o);
      // A note gone meanwhile was settled (its row now owns the object) or dropped (its attempt destroys it).
      if (!fix || (started !== undefined && !(await this.take(o.id)))) continue;
      await this.store.destroy({ id: o.id });
      report.removed.push(o);
    }
    // Notes of attempts that died before making their object, or after destroying it.
    const listed = new Set(objects.map((o) => o.id));
    if (fix) for (const [id, started] of pending) if (started <= cutoff && !listed.has(id)) await this.take(id);
    return report;
  }

  /** The ids among `ids` that a CMK version or import parameters own. */
  private async owned(ids: string[]): Promise<Set<string>> {
    const owned = new Set<string>();
    for (let i = 0; i < ids.length; i += CHUNK) {
      const chunk = ids.slice(i, i + CHUNK);
      for (const v of await this.ds.getRepository(KeyVersionEntity).find({ where: { id: In(chunk) }, select: { id: true } })) owned.add(v.id);
      for (const p of await this.ds.getRepository(ImportParametersEntity).find({ where: { wrappingKeyId: In(chunk) }, select: { keyId: true, wrappingKeyId: true } })) owned.add(p.wrappingKeyId);
    }
    return owned;
  }

  /** Removes an attempt's note; false if it was gone already. */
  private async take(id: string): Promise<boolean> {
    const r = await this.ds.transaction((m) => m.delete(PendingMaterialEntity, { id }));
    return r.affected === 1;
  }
}

/** The audit trail's `keys` of an object: `keyId/vN` for a CMK version, the key id for an import wrapping key. */
export function objectKeys(o: TokenObject): string {
  const m = /^cmk (\S+) v(\d+)$/.exec(o.label);
  return m ? `${m[1]}/v${m[2]}` : o.label.slice('kms import '.length);
}

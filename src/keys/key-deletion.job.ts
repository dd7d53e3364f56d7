import { Inject, Injectable, OnModuleInit } from '@nestjs/common';
import { AuditTrail } from '../audit/audit-trail';
import { Clock } from '../common/clock';
import { Log } from '../common/logger';
import { KeyStore } from '../hsm/key-store';
import { Job, JobRunner } from '../jobs/job-runner';
import { KeyRepository } from './key.repository';

/**
 * Destroys keys whose deletion date has come. The rows go first, in a write conditional on
 * the key still being PendingDelete and due, so a CancelKeyDeletion that wins the race
 * keeps its material; only the writer that removed the rows then destroys the token
 * objects. A crash between the two leaves unreachable token objects, never a lost key.
 */
@Injectable()
export class KeyDeletionJob implements Job, OnModuleInit {
  readonly name = 'key-deletion';

  constructor(
    private readonly repo: KeyRepository,
    @Inject(KeyStore) private readonly store: KeyStore,
    private readonly clock: Clock,
    private readonly runner: JobRunner,
    private readonly audit: AuditTrail,
  ) {}

  onModuleInit(): void {
    this.runner.register(this);
  }

  async run(): Promise<void> {
    const now = this.clock.nowSeconds();
    for (const key of await this.repo.dueForDeletion(now, 100)) {
      const started = Date.now();
      const rec = await this.repo.load(key.keyId);
      if (!rec) continue;
      const deleted = await this.repo.transaction((m) => this.repo.deleteDue(m, key.keyId, now));
      if (!deleted) continue;
      for (const material of rec.versions.values()) await this.store.destroy(material);
      this.audit.record({ at: this.audit.now(), face: 'service', action: this.name, account: key.uin, keys: key.keyId, result: 'Success', durationMs: Date.now() - started });
      Log.info('cmk deleted', { keyId: key.keyId, uin: key.uin, region: key.region, deletionDate: key.deletionDate, versions: rec.versions.size });
    }
  }
}

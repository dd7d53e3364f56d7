import { Inject, Injectable, OnModuleInit } from '@nestjs/common';
import { AuditTrail } from '../audit/audit-trail';
import { Clock } from '../common/clock';
import { KeyStore } from '../hsm/key-store';
import { Job, JobRunner } from '../jobs/job-runner';
import { ImportRepository } from './import.repository';

/**
 * Removes import parameters whose 24 hours have passed, and destroys their wrapping key pair.
 * The row goes first, so a pair is destroyed only by the one process that removed it.
 */
@Injectable()
export class ImportParametersExpiryJob implements Job, OnModuleInit {
  readonly name = 'import-parameters-expiry';

  constructor(private readonly repo: ImportRepository, @Inject(KeyStore) private readonly store: KeyStore, private readonly clock: Clock, private readonly runner: JobRunner, private readonly audit: AuditTrail) {}

  onModuleInit(): void {
    this.runner.register(this);
  }

  async run(): Promise<void> {
    for (const p of await this.repo.expiredParameters(this.clock.nowSeconds(), 100)) {
      const started = Date.now();
      if (!(await this.repo.deleteParameters(p))) continue;
      await this.store.destroy({ id: p.wrappingKeyId });
      this.audit.record({ at: this.audit.now(), face: 'service', action: this.name, keys: p.keyId, result: 'Success', durationMs: Date.now() - started });
    }
  }
}

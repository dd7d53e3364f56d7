import { Injectable, OnModuleInit } from '@nestjs/common';
import { AuditTrail } from '../audit/audit-trail';
import { Clock } from '../common/clock';
import { Log } from '../common/logger';
import { Job, JobRunner } from '../jobs/job-runner';
import { KeyRepository } from '../keys/key.repository';
import { ImportService } from './import.service';

/**
 * Deletes imported material whose ValidTo has passed, as DeleteImportedKeyMaterial would
 * (the key goes back to PendingImport). The write is conditional on the key's row as read,
 * so a re-import that set a new ValidTo meanwhile keeps its material.
 */
@Injectable()
export class MaterialExpiryJob implements Job, OnModuleInit {
  readonly name = 'material-expiry';

  constructor(private readonly keys: KeyRepository, private readonly imports: ImportService, private readonly clock: Clock, private readonly runner: JobRunner, private readonly audit: AuditTrail) {}

  onModuleInit(): void {
    this.runner.register(this);
  }

  async run(): Promise<void> {
    for (const key of await this.keys.materialExpired(this.clock.nowSeconds(), 100)) {
      const started = Date.now();
      if (!(await this.imports.dropMaterial(key))) continue;
      this.audit.record({ at: this.audit.now(), face: 'service', action: this.name, account: key.uin, keys: key.keyId, result: 'Success', durationMs: Date.now() - started });
      Log.info('imported key material expired', { keyId: key.keyId, uin: key.uin, region: key.region, validTo: key.validTo });
    }
  }
}

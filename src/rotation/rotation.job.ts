import { Injectable, OnModuleInit } from '@nestjs/common';
import { AuditTrail } from '../audit/audit-trail';
import { TouchedKeys } from '../audit/audit-context';
import { Clock } from '../common/clock';
import { Job, JobRunner } from '../jobs/job-runner';
import { KeyRepository } from '../keys/key.repository';
import { RotationService } from './rotation.service';

/**
 * Rotates Enabled keys whose NextRotateTime has come, and schedules the next rotation a full
 * period later. A key that changed since it was read (rotated by hand, disabled, its schedule
 * changed) loses the conditional write and is judged again on the next run. Disabled and
 * archived keys are not rotated: a key that falls due while disabled is rotated on the first
 * run after it is enabled again. A key with KMS_MAX_KEY_VERSIONS versions is not rotated; its
 * next rotation moves a period on.
 */
@Injectable()
export class RotationJob implements Job, OnModuleInit {
  readonly name = 'key-rotation';

  constructor(
    private readonly rotation: RotationService,
    private readonly keys: KeyRepository,
    private readonly clock: Clock,
    private readonly runner: JobRunner,
    private readonly audit: AuditTrail,
  ) {}

  onModuleInit(): void {
    this.runner.register(this);
  }

  async run(): Promise<void> {
    const now = this.clock.nowSeconds();
    for (const key of await this.keys.dueForRotation(now, 100)) {
      const started = Date.now();
      const keys = new TouchedKeys();
      keys.note(key.keyId);
      let result = 'Success';
      try {
        await this.rotation.rotateDue(key, now, keys);
      } catch (e) {
        result = `Failed.${(e as Error).name}`;
        throw e;
      } finally {
        this.audit.record({ at: this.audit.now(), face: 'service', action: this.name, account: key.uin, keys: keys.toString(), result, durationMs: Date.now() - started });
      }
    }
  }
}

import { Inject, Injectable, OnModuleInit } from '@nestjs/common';
import { AuditTrail } from '../audit/audit-trail';
import { Log } from '../common/logger';
import { KMS_CONFIG, KmsConfig } from '../config/config';
import { Job, JobRunner } from '../jobs/job-runner';
import { TokenReconciler, objectKeys } from './token-reconciler';

/**
 * Every KMS_TOKEN_RECONCILE_INTERVAL_S (checked at each job tick, first at the first one),
 * destroys the token objects no row owns (see TokenReconciler); a run that removed some is
 * recorded in the audit trail as the service's.
 */
@Injectable()
export class TokenReconcileJob implements Job, OnModuleInit {
  readonly name = 'token-reconcile';
  private lastRun = 0;

  constructor(
    private readonly reconciler: TokenReconciler,
    private readonly runner: JobRunner,
    private readonly audit: AuditTrail,
    @Inject(KMS_CONFIG) private readonly cfg: KmsConfig,
  ) {}

  onModuleInit(): void {
    if (this.cfg.tokenReconcile.intervalMs > 0) this.runner.register(this);
  }

  async run(): Promise<void> {
    if (Date.now() - this.lastRun < this.cfg.tokenReconcile.intervalMs) return;
    this.lastRun = Date.now();
    const started = Date.now();
    const r = await this.reconciler.reconcile(true);
    if (!r.removed.length) return;
    const keys = r.removed.map(objectKeys).join(' ');
    this.audit.record({ at: this.audit.now(), face: 'service', action: this.name, keys, result: 'Success', durationMs: Date.now() - started });
    Log.warn('token objects that no row owns were destroyed', { objects: r.removed.map((o) => o.id).join(' '), keys });
  }
}

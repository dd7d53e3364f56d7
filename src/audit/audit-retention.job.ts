import { Inject, Injectable, OnModuleInit } from '@nestjs/common';
import { DataSource, LessThanOrEqual, MoreThanOrEqual } from 'typeorm';
import { Clock } from '../common/clock';
import { Log } from '../common/logger';
import { KMS_CONFIG, KmsConfig } from '../config/config';
import { Job, JobRunner } from '../jobs/job-runner';
import { AuditChainEntity } from './audit-chain.entity';
import { baseSealMessage } from './audit-event';
import { AuditRecordEntity } from './audit-record.entity';
import { AuditSealer } from './audit-sealer';
import { AuditTrail } from './audit-trail';

const DAY_MS = 86_400_000;

/**
 * Removes records older than KMS_AUDIT_RETENTION_DAYS. Each chain is cut after its last
 * record older than the limit (a prefix: every record before the cut goes), and its start
 * moves to a checkpoint sealed in the token: the cut's sequence number and the hash the
 * next record chains from. What remains verifies as before.
 */
@Injectable()
export class AuditRetentionJob implements Job, OnModuleInit {
  readonly name = 'audit-retention';

  constructor(
    @Inject(DataSource) private readonly ds: DataSource,
    @Inject(KMS_CONFIG) private readonly cfg: KmsConfig,
    private readonly clock: Clock,
    private readonly sealer: AuditSealer,
    private readonly trail: AuditTrail,
    private readonly runner: JobRunner,
  ) {}

  onModuleInit(): void {
    if (this.trail.enabled) this.runner.register(this);
  }

  async run(): Promise<void> {
    const started = Date.now();
    const cutoff = this.clock.nowMs() - this.cfg.audit.retentionDays * DAY_MS;
    const records = this.ds.getRepository(AuditRecordEntity);
    let removed = 0;
    for (const c of await this.ds.getRepository(AuditChainEntity).find()) {
      // The chain's last record first: records written meanwhile come after it and are never
      // judged here (read the other way round, a batch landing between the two reads would be
      // cut with the old ones). Then the first record young enough to keep; everything before it goes.
      const lastPersisted = await records.findOne({ where: { writer: c.writer }, order: { seq: 'DESC' }, select: { seq: true } });
      if (!lastPersisted) continue;
      const keep = await records.findOne({ where: { writer: c.writer, at: MoreThanOrEqual(cutoff), seq: LessThanOrEqual(lastPersisted.seq) }, order: { seq: 'ASC' }, select: { seq: true } });
      const cut = keep ? keep.seq - 1 : lastPersisted.seq;
      if (cut <= c.baseSeq) continue;
      const at = await records.findOne({ where: { writer: c.writer, seq: cut } });
      if (!at) continue;
      const mac = await this.sealer.seal(baseSealMessage(c.writer, cut, at.hash));
      const n = await this.ds.transaction(async (m) => {
        await m.update(AuditChainEntity, { writer: c.writer }, { baseSeq: cut, baseHash: at.hash, baseMac: mac });
        return (await m.delete(AuditRecordEntity, { writer: c.writer, seq: LessThanOrEqual(cut) })).affected ?? 0;
      });
      removed += n;
    }
    if (removed === 0) return;
    Log.info('audit records past their retention removed', { removed, retentionDays: this.cfg.audit.retentionDays });
    this.trail.record({ at: this.trail.now(), face: 'service', action: this.name, result: 'Success', durationMs: Date.now() - started });
  }
}

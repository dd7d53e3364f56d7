import { Inject, Injectable, OnModuleInit } from '@nestjs/common';
import { DataSource, LessThanOrEqual } from 'typeorm';
import { AuditTrail } from '../audit/audit-trail';
import { Clock } from '../common/clock';
import { Job, JobRunner } from '../jobs/job-runner';
import { ChangeFeed } from '../persistence/change-feed';
import { CredentialEntity } from './credential.entity';

/** How long an expired access token stays (listed, and answered as expired rather than unknown). */
export const EXPIRED_TOKEN_KEPT_SECONDS = 7 * 86_400;
const BATCH = 100;

/**
 * Deletes access tokens a week after they expired, so that issuing tokens day after day does
 * not grow the credentials table for ever. Each deletion is conditional on the row as read
 * and goes through the change feed, as `credential delete` does.
 */
@Injectable()
export class AccessTokenExpiryJob implements Job, OnModuleInit {
  readonly name = 'access-token-expiry';

  constructor(@Inject(DataSource) private readonly ds: DataSource, private readonly clock: Clock, private readonly feed: ChangeFeed, private readonly runner: JobRunner, private readonly audit: AuditTrail) {}

  onModuleInit(): void {
    this.runner.register(this);
  }

  async run(): Promise<void> {
    const before = this.clock.nowSeconds() - EXPIRED_TOKEN_KEPT_SECONDS;
    const due = await this.ds.getRepository(CredentialEntity).find({ where: { kind: 'token', expiresAt: LessThanOrEqual(before) }, take: BATCH, order: { expiresAt: 'ASC' } });
    for (const t of due) {
      const started = Date.now();
      const gone = await this.ds.transaction(async (m) => {
        const r = await m.delete(CredentialEntity, { secretId: t.secretId, kind: 'token', expiresAt: LessThanOrEqual(before) });
        if (r.affected) await this.feed.publish(m, 'credential', t.secretId);
        return (r.affected ?? 0) > 0;
      });
      if (gone) this.audit.record({ at: this.audit.now(), face: 'service', action: this.name, account: t.uin, subUser: t.subUin ?? undefined, secretId: t.secretId, result: 'Success', durationMs: Date.now() - started });
    }
  }
}

import { Inject, Injectable } from '@nestjs/common';
import { Registry } from 'prom-client';
import { AccountsService } from '../accounts/accounts.service';
import { AuditTrail } from '../audit/audit-trail';
import { Token } from '../hsm/token';
import { WrappedMaterial } from '../hsm/wrapped-material';
import { JobRunner } from '../jobs/job-runner';
import { KeyCache } from '../keys/key-cache';
import { ChangeFeed } from '../persistence/change-feed';
import { RateLimiter } from '../quotas/rate-limiter.service';
import { CollectedMetric, Sample } from './collected';
import { registerCollected } from './collected';
import { Readiness } from './readiness';
import { METRICS_REGISTRY } from './request-metrics';

const one = (value: number | boolean): Sample[] => [{ labels: {}, value: Number(value) }];
const byName = (label: string, counts: ReadonlyMap<string, number>): Sample[] => [...counts].map(([name, value]) => ({ labels: { [label]: name }, value }));

/**
 * The core's state as metrics, read when scraped from the plain counts each part keeps
 * (the request path never touches prom-client): token sessions and handle cache, key,
 * credential and session-key (unwrapped material) caches, rate-limit refusals, audit queue and
 * failures, job runs, and whether the token, database, audit trail and change feed are up.
 */
@Injectable()
export class CoreMetrics {
  constructor(
    @Inject(METRICS_REGISTRY) registry: Registry,
    @Inject(Token) token: Token,
    @Inject(WrappedMaterial) wrapped: WrappedMaterial,
    keys: KeyCache,
    accounts: AccountsService,
    limiter: RateLimiter,
    audit: AuditTrail,
    jobs: JobRunner,
    feed: ChangeFeed,
    readiness: Readiness,
  ) {
    const caches = (pick: 'hits' | 'misses'): Sample[] => {
      const t = token.stats();
      return [
        { labels: { cache: 'key' }, value: keys[pick] },
        { labels: { cache: 'credential' }, value: accounts.cacheStats()[pick] },
        { labels: { cache: 'token_handle' }, value: pick === 'hits' ? t.handleHits : t.handleMisses },
        { labels: { cache: 'session_key' }, value: wrapped.stats()[pick] },
      ];
    };
    const metrics: CollectedMetric[] = [
      { name: 'kms_token_up', help: '1 while the token is logged in and usable (the instance: every worker).', type: 'gauge', aggregator: 'min', samples: () => one(token.available) },
      { name: 'kms_database_up', help: '1 while the database answers SELECT 1 within 2 s (the instance: every worker).', type: 'gauge', aggregator: 'min', samples: async () => one(await readiness.databaseUp()) },
      { name: 'kms_audit_writable', help: '1 while audit records are being written (always 1 with KMS_AUDIT=off).', type: 'gauge', aggregator: 'min', samples: () => one(audit.writable) },
      { name: 'kms_change_feed_fresh', help: '1 while the cache-invalidation poll succeeds (0: caches are bypassed).', type: 'gauge', aggregator: 'min', samples: () => one(feed.fresh) },
      { name: 'kms_token_sessions_in_use', help: 'Pooled token sessions lent to an operation now.', type: 'gauge', aggregator: 'sum', samples: () => one(token.stats().sessionsInUse) },
      { name: 'kms_token_sessions_waiting', help: 'Operations waiting for a pooled token session now.', type: 'gauge', aggregator: 'sum', samples: () => one(token.stats().sessionsWaiting) },
      { name: 'kms_token_sessions_max', help: 'Pooled token sessions allowed (the profile maxSessions, per worker).', type: 'gauge', aggregator: 'sum', samples: () => one(token.stats().sessionsMax) },
      { name: 'kms_session_keys', help: 'Wrapped CMK versions held unwrapped as session objects in the token (wrapped storage).', type: 'gauge', aggregator: 'sum', samples: () => one(wrapped.stats().entries) },
      { name: 'kms_cache_hits_total', help: 'Reads answered from memory, by cache (key, credential, token_handle, session_key).', type: 'counter', aggregator: 'sum', samples: () => caches('hits') },
      { name: 'kms_cache_misses_total', help: 'Reads that had to load, by cache (key, credential, token_handle, session_key).', type: 'counter', aggregator: 'sum', samples: () => caches('misses') },
      { name: 'kms_rate_limit_refusals_total', help: 'Calls refused by the per-account rate limits, by action.', type: 'counter', aggregator: 'sum', samples: () => byName('action', limiter.refusals) },
      { name: 'kms_audit_queue_depth', help: 'Audit records accepted and not yet written.', type: 'gauge', aggregator: 'sum', samples: () => one(audit.stats().queued) },
      { name: 'kms_audit_write_failures_total', help: 'Audit batch writes that failed (each is retried).', type: 'counter', aggregator: 'sum', samples: () => one(audit.stats().failures) },
      { name: 'kms_audit_dropped_total', help: 'Audit records dropped because the queue was full.', type: 'counter', aggregator: 'sum', samples: () => one(audit.stats().dropped) },
      { name: 'kms_job_runs_total', help: 'Periodic job runs (this process held the lease), by job.', type: 'counter', aggregator: 'sum', samples: () => byName('job', jobs.runs) },
      { name: 'kms_job_failures_total', help: 'Periodic job runs that failed, by job.', type: 'counter', aggregator: 'sum', samples: () => byName('job', jobs.failures) },
    ];
    for (const m of metrics) registerCollected(registry, m);
  }
}

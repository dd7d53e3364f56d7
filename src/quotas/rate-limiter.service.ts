import { Inject, Injectable, OnApplicationShutdown } from '@nestjs/common';
import type { ThrottlerStorage } from '@nestjs/throttler';
import cluster from 'node:cluster';
import { KMS_CONFIG, KmsConfig } from '../config/config';
import { ClusterRateStorage, MemoryRateStorage, RedisRateStorage } from './rate-limit-storage';

/**
 * Per-account, per-action request rates. A face passes its documented default; the
 * configuration (KMS_RATE_LIMITS) may override it per action, per account, or both, the
 * most specific entry winning: `UIN:Action`, `UIN:*`, `Action`, `*`.
 */
@Injectable()
export class RateLimiter implements OnApplicationShutdown {
  private readonly storage: ThrottlerStorage | null;
  /** Calls refused, by action (the metrics read it). */
  readonly refusals = new Map<string, number>();

  constructor(@Inject(KMS_CONFIG) private readonly cfg: KmsConfig) {
    if (!cfg.rateLimits.enabled) {
      this.storage = null;
      return;
    }
    // The instance's counters: the primary's for its workers. With Redis, used while it is away.
    const instance = cluster.isWorker ? new ClusterRateStorage() : new MemoryRateStorage();
    this.storage = cfg.redisUrl ? new RedisRateStorage(cfg.redisUrl, instance) : instance;
  }

  /** Whether `allow` counts (and so waits on the counters' store); false with rate limits off. */
  get counts(): boolean {
    return this.storage !== null;
  }

  limitFor(uin: string, action: string, dflt: number): number {
    const o = this.cfg.rateLimits.overrides;
    return o.get(`${uin}:${action}`) ?? o.get(`${uin}:*`) ?? o.get(action) ?? o.get('*') ?? dflt;
  }

  /** True when the call is within the limit (and counts it), false when it must be refused. */
  async allow(uin: string, action: string, dflt: number): Promise<boolean> {
    if (!this.storage) return true;
    const limit = this.limitFor(uin, action, dflt);
    const r = await this.storage.increment(`${uin}:${action}`, 1000, limit, 0, 'per-second');
    if (r.isBlocked) this.refusals.set(action, (this.refusals.get(action) ?? 0) + 1);
    return !r.isBlocked;
  }

  onApplicationShutdown(): void {
    if (this.storage instanceof RedisRateStorage) this.storage.close();
  }
}

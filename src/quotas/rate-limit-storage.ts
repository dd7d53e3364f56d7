import type { ThrottlerStorage } from '@nestjs/throttler';
import type { ThrottlerStorageRecord } from '@nestjs/throttler/dist/throttler-storage-record.interface';
import * as crypto from 'node:crypto';
import Redis from 'ioredis';
import { Log } from '../common/logger';
import { ChannelPort, PrimaryChannel } from '../common/primary-channel';
import { SlidingWindow } from './sliding-window';

/**
 * Counter stores behind @nestjs/throttler's ThrottlerStorage interface, all with
 * sliding-window semantics (see SlidingWindow): `increment` records the hit only when it is
 * within `limit`, and says whether it was.
 */

const record = (allowed: boolean, count: number, retryAfterMs: number): ThrottlerStorageRecord => ({
  totalHits: allowed ? count : count + 1,
  timeToExpire: Math.ceil(retryAfterMs / 1000),
  isBlocked: !allowed,
  timeToBlockExpire: Math.ceil(retryAfterMs / 1000),
});

/** In this process. */
export class MemoryRateStorage implements ThrottlerStorage {
  private readonly window = new SlidingWindow();
  async increment(key: string, ttl: number, limit: number): Promise<ThrottlerStorageRecord> {
    const r = this.window.hit(key, limit, ttl, Date.now());
    return record(r.allowed, r.count, r.retryAfterMs);
  }
}

const SLIDING_LOG = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local window = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
local n = redis.call('ZCARD', KEYS[1])
if n < tonumber(ARGV[1]) then
  redis.call('ZADD', KEYS[1], now, now .. ':' .. ARGV[3])
  redis.call('PEXPIRE', KEYS[1], window)
  return {1, n + 1, 0}
end
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return {0, n, tonumber(oldest[2]) + window - now}
`;

/** A Redis call slower than this counts as Redis being away: the limit is judged in the instance instead. */
const REDIS_TIMEOUT_MS = 500;
const WARN_EVERY_MS = 10_000;

/**
 * In Redis (KMS_REDIS_URL), shared by every process of every instance. Redis's own clock
 * timestamps the hits, so instances need not agree on the time. While Redis cannot be
 * reached (or does not answer within REDIS_TIMEOUT_MS), calls are counted by `instance`,
 * the counters of this instance alone: each instance then allows the documented rate, so the
 * limits neither open nor close; that is logged, and so is the return to Redis's counters
 * (ioredis reconnects by itself).
 */
export class RedisRateStorage implements ThrottlerStorage {
  private readonly redis: Redis;
  private warnedAt = 0;
  private away = false;

  constructor(url: string, private readonly instance: ThrottlerStorage) {
    this.redis = new Redis(url, { maxRetriesPerRequest: 1, enableOfflineQueue: false, commandTimeout: REDIS_TIMEOUT_MS });
    this.redis.on('error', () => undefined);
    this.redis.defineCommand('kmsSlidingLog', { numberOfKeys: 1, lua: SLIDING_LOG });
  }

  async increment(key: string, ttl: number, limit: number, blockDuration: number, throttlerName: string): Promise<ThrottlerStorageRecord> {
    // Not connected: no command is tried (it would fail at once anyway, offline queue off).
    if (this.redis.status !== 'ready') return this.inInstance(`Redis connection ${this.redis.status}`, key, ttl, limit, blockDuration, throttlerName);
    try {
      const [allowed, count, retry] = (await (this.redis as unknown as { kmsSlidingLog(k: string, l: number, w: number, id: string): Promise<number[]> }).kmsSlidingLog(
        `kms:rl:${key}`,
        limit,
        ttl,
        crypto.randomBytes(6).toString('base64url'),
      )) as number[];
      if (this.away) {
        this.away = false;
        Log.warn('rate-limit counters shared in Redis again');
      }
      return record(allowed === 1, count, retry);
    } catch (e) {
      return this.inInstance((e as Error).message, key, ttl, limit, blockDuration, throttlerName);
    }
  }

  private inInstance(why: string, key: string, ttl: number, limit: number, blockDuration: number, throttlerName: string): Promise<ThrottlerStorageRecord> {
    if (!this.away || Date.now() - this.warnedAt > WARN_EVERY_MS) {
      this.warnedAt = Date.now();
      Log.warn("rate-limit counters unreachable in Redis; counting in this instance meanwhile (each instance allows the full rate)", { error: why });
    }
    this.away = true;
    return this.instance.increment(key, ttl, limit, blockDuration, throttlerName);
  }

  close(): void {
    this.redis.disconnect();
  }
}

interface RateQuestion {
  key: string;
  ttl: number;
  limit: number;
}

/**
 * For the workers of one instance without Redis: the cluster's primary keeps the counters
 * and each worker asks it over the IPC channel (batched per turn of the event loop:
 * PrimaryChannel), so the workers together allow the documented rate. While the primary does
 * not answer within a second, the worker counts on its own (each worker then allows the full
 * rate: the limit neither opens nor closes), and that is logged.
 */
export class ClusterRateStorage implements ThrottlerStorage {
  private readonly alone = new SlidingWindow();
  private warnedAt = 0;
  private readonly primary: PrimaryChannel<RateQuestion, ThrottlerStorageRecord>;

  constructor(port?: ChannelPort) {
    this.primary = new PrimaryChannel<RateQuestion, ThrottlerStorageRecord>('rate', 1000, (q) => this.inWorker(q), port);
  }

  increment(key: string, ttl: number, limit: number): Promise<ThrottlerStorageRecord> {
    return this.primary.ask({ key, ttl, limit });
  }

  private inWorker(q: RateQuestion): ThrottlerStorageRecord {
    if (Date.now() - this.warnedAt > WARN_EVERY_MS) {
      this.warnedAt = Date.now();
      Log.warn('the primary did not answer a rate-limit count; this worker counts alone meanwhile (it allows the full rate)');
    }
    const r = this.alone.hit(q.key, q.limit, q.ttl, Date.now());
    return record(r.allowed, r.count, r.retryAfterMs);
  }

  /** In the primary: answers the workers' questions from one sliding window. */
  static serve(): void {
    const window = new SlidingWindow();
    PrimaryChannel.serve<RateQuestion, ThrottlerStorageRecord>('rate', (q) => {
      const r = window.hit(q.key, q.limit, q.ttl, Date.now());
      return record(r.allowed, r.count, r.retryAfterMs);
    });
  }
}

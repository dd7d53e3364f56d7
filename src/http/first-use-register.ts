import Redis from 'ioredis';
import { Log } from '../common/logger';
import { PrimaryChannel } from '../common/primary-channel';

/**
 * A register of one-time values (here: request signatures) and the uses made of them. The
 * first use of a value fixes its address and time; a later use with the same tag is accepted
 * (an identical retry), one with another tag only from the same address within
 * SWAP_WINDOW_MS of the first use (and that tag is then accepted too); anything else is
 * refused. Values are forgotten at `expiresAt`, when they stop being valid anyway.
 */
export interface Use {
  key: string;
  tag: string;
  address: string;
  /** Epoch milliseconds. */
  expiresAt: number;
}

/** `full`: the register holds MAX_ENTRIES values and takes no new one until some expire. */
export type Verdict = 'accepted' | 'refused' | 'full';

export interface FirstUseRegister {
  claim(use: Use): Promise<Verdict>;
  close?(): void;
}

export const SWAP_WINDOW_MS = 2000;
/** About 140 bytes each: 4 million (the default of KMS_SIGNATURE_REGISTER_ENTRIES) is some 560 MB. */
export const MAX_ENTRIES = 4_000_000;

interface Entry {
  address: string;
  /** Milliseconds from the start of the group's second; small, so stored inline. */
  at: number;
  /** One tag, or several after an accepted swap. */
  tags: string | string[];
}

/**
 * In this process. Values are grouped by the second they expire in, so that expiry drops
 * whole groups instead of visiting each value. Tags and addresses repeat a lot and are
 * shared, to keep an entry small.
 */
export class MemoryFirstUseRegister implements FirstUseRegister {
  private readonly bySecond = new Map<number, Map<string, Entry>>();
  private readonly strings = new Map<string, string>();
  private size = 0;
  private sweptAt = 0;

  constructor(private readonly max = MAX_ENTRIES) {}

  claim(use: Use): Promise<Verdict> {
    return Promise.resolve(this.claimNow(use, Date.now()));
  }

  claimNow(use: Use, now: number): Verdict {
    this.sweep(now);
    const second = Math.ceil(use.expiresAt / 1000);
    const at = now - second * 1000;
    let group = this.bySecond.get(second);
    const e = group?.get(use.key);
    if (!e) {
      if (this.size >= this.max) return 'full';
      if (!group) this.bySecond.set(second, (group = new Map()));
      group.set(use.key, { address: this.shared(use.address), at, tags: this.shared(use.tag) });
      this.size++;
      return 'accepted';
    }
    if (use.tag !== '' && (e.tags === use.tag || (Array.isArray(e.tags) && e.tags.includes(use.tag)))) return 'accepted';
    if (e.address !== use.address || at - e.at > SWAP_WINDOW_MS) return 'refused';
    if (use.tag !== '') e.tags = [...(Array.isArray(e.tags) ? e.tags : [e.tags]), use.tag];
    return 'accepted';
  }

  private shared(s: string): string {
    const known = this.strings.get(s);
    if (known !== undefined) return known;
    if (this.strings.size >= 10_000) this.strings.clear();
    this.strings.set(s, s);
    return s;
  }

  private sweep(now: number): void {
    if (now - this.sweptAt < 1000) return;
    this.sweptAt = now;
    for (const [second, group] of this.bySecond) {
      if (second * 1000 > now) continue;
      this.size -= group.size;
      this.bySecond.delete(second);
    }
  }
}

/**
 * For the workers of one instance: the cluster's primary keeps the register and each worker
 * asks it over the IPC channel (claims batched per turn of the event loop: PrimaryChannel).
 * A primary that does not answer within a second is replaced by a register in the worker
 * itself, which still refuses a swap made through the same worker, and that is logged.
 */
export class ClusterFirstUseRegister implements FirstUseRegister {
  private readonly fallback = new MemoryFirstUseRegister();
  private warnedAt = 0;
  private readonly primary = new PrimaryChannel<Use, Verdict>('first-use', 1000, (use) => {
    if (Date.now() - this.warnedAt > 10_000) {
      this.warnedAt = Date.now();
      Log.warn('the primary did not answer a signature claim; this worker decides alone meanwhile');
    }
    return this.fallback.claimNow(use, Date.now());
  });

  claim(use: Use): Promise<Verdict> {
    return this.primary.ask({ key: use.key, tag: use.tag, address: use.address, expiresAt: use.expiresAt });
  }

  private static served = false;

  /** In the primary: answers the workers' claims from one register (once, whichever faces ask). */
  static serve(max = MAX_ENTRIES): void {
    if (ClusterFirstUseRegister.served) return;
    ClusterFirstUseRegister.served = true;
    const register = new MemoryFirstUseRegister(max);
    PrimaryChannel.serve<Use, Verdict>('first-use', (use) => register.claimNow(use, Date.now()));
  }
}

/** The rule of the register in one atomic step; Redis's own clock times the uses. */
const CLAIM = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local tag = false
if ARGV[1] ~= '' then tag = 't:' .. ARGV[1] end
if redis.call('EXISTS', KEYS[1]) == 0 then
  redis.call('HSET', KEYS[1], '@address', ARGV[2], '@at', now)
  if tag then redis.call('HSET', KEYS[1], tag, 1) end
  redis.call('PEXPIRE', KEYS[1], ARGV[3])
  return 1
end
if tag and redis.call('HEXISTS', KEYS[1], tag) == 1 then return 1 end
local first = redis.call('HMGET', KEYS[1], '@address', '@at')
if first[1] == ARGV[2] and now - tonumber(first[2]) <= tonumber(ARGV[4]) then
  if tag then redis.call('HSET', KEYS[1], tag, 1) end
  return 1
end
return 0
`;

/**
 * In Redis (KMS_REDIS_URL), shared by every process of every instance. While Redis cannot
 * be reached, claims go to the instance's own register (so swaps through this instance are
 * still refused), and that is logged.
 */
export class RedisFirstUseRegister implements FirstUseRegister {
  private readonly redis: Redis;
  private warnedAt = 0;

  constructor(url: string, private readonly fallback: FirstUseRegister) {
    this.redis = new Redis(url, { maxRetriesPerRequest: 1, enableOfflineQueue: false, commandTimeout: 1000 });
    this.redis.on('error', () => undefined);
    this.redis.defineCommand('kmsFirstUse', { numberOfKeys: 1, lua: CLAIM });
  }

  async claim(use: Use): Promise<Verdict> {
    try {
      const r = await (this.redis as unknown as { kmsFirstUse(k: string, tag: string, address: string, ttl: number, window: number): Promise<number> }).kmsFirstUse(
        `kms:first-use:${use.key}`,
        use.tag,
        use.address,
        Math.max(1000, use.expiresAt - Date.now()),
        SWAP_WINDOW_MS,
      );
      return r === 1 ? 'accepted' : 'refused';
    } catch (e) {
      if (Date.now() - this.warnedAt > 10_000) {
        this.warnedAt = Date.now();
        Log.warn('signature register unreachable in Redis; using this instance\'s register meanwhile', { error: (e as Error).message });
      }
      return this.fallback.claim(use);
    }
  }

  close(): void {
    this.redis.disconnect();
  }
}

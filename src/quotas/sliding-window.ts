/**
 * A sliding-window log: at most `limit` accepted hits in any window of `windowMs`. Refused
 * hits are not recorded, so a client that keeps knocking is served again as soon as the
 * window allows. Over any span of n windows at most n * limit hits pass, which a fixed
 * window cannot promise (it lets 2 * limit through around a boundary).
 */
/** One key's accepted hits, oldest first, from `head` on (dropping from the front of a long array would move all of it). */
interface Log {
  times: number[];
  head: number;
}

export class SlidingWindow {
  private readonly hits = new Map<string, Log>();
  private sweptAt = 0;

  hit(key: string, limit: number, windowMs: number, now: number): { allowed: boolean; count: number; retryAfterMs: number } {
    this.sweep(now, windowMs);
    let log = this.hits.get(key);
    if (!log) this.hits.set(key, (log = { times: [], head: 0 }));
    const t = log.times;
    while (log.head < t.length && t[log.head] <= now - windowMs) log.head++;
    // Compact once the dropped part is the larger: amortized O(1) per hit.
    if (log.head > 64 && log.head * 2 > t.length) {
      t.splice(0, log.head);
      log.head = 0;
    }
    const count = t.length - log.head;
    if (count >= limit) return { allowed: false, count, retryAfterMs: t[log.head] + windowMs - now };
    t.push(now);
    return { allowed: true, count: count + 1, retryAfterMs: 0 };
  }

  /** Forgets idle keys now and then so that memory follows the active callers only. */
  private sweep(now: number, windowMs: number): void {
    if (now - this.sweptAt < 10 * windowMs) return;
    this.sweptAt = now;
    for (const [k, log] of this.hits) if (log.times.length === log.head || log.times[log.times.length - 1] <= now - windowMs) this.hits.delete(k);
  }
}

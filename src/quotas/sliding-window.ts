/**
 * A sliding-window log: at most `limit` accepted hits in any window of `windowMs`. Refused
 * hits are not recorded, so a client that keeps knocking is served again as soon as the
 * window allows. Over any span of n windows at most n * limit hits pass, which a fixed
 * window cannot promise (it lets 2 * limit through around a boundary).
 */
export class SlidingWindow {
  private readonly hits = new Map<string, number[]>();
  private sweptAt = 0;

  hit(key: string, limit: number, windowMs: number, now: number): { allowed: boolean; count: number; retryAfterMs: number } {
    this.sweep(now, windowMs);
    let log = this.hits.get(key);
    if (!log) this.hits.set(key, (log = []));
    let drop = 0;
    while (drop < log.length && log[drop] <= now - windowMs) drop++;
    if (drop) log.splice(0, drop);
    if (log.length >= limit) return { allowed: false, count: log.length, retryAfterMs: log[0] + windowMs - now };
    log.push(now);
    return { allowed: true, count: log.length, retryAfterMs: 0 };
  }

  /** Forgets idle keys now and then so that memory follows the active callers only. */
  private sweep(now: number, windowMs: number): void {
    if (now - this.sweptAt < 10 * windowMs) return;
    this.sweptAt = now;
    for (const [k, log] of this.hits) if (log.length === 0 || log[log.length - 1] <= now - windowMs) this.hits.delete(k);
  }
}

/** Nearest-rank percentile of an ascending-sorted sample. */
export function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1];
}

/** A growable sample of per-operation latencies in nanoseconds. */
export class LatencySample {
  private data = new Float64Array(1 << 16);
  length = 0;

  add(ns: number): void {
    if (this.length === this.data.length) {
      const bigger = new Float64Array(this.data.length * 2);
      bigger.set(this.data);
      this.data = bigger;
    }
    this.data[this.length++] = ns;
  }

  /** p50 and p99 in milliseconds. */
  summary(): { p50Ms: number; p99Ms: number } {
    const sorted = this.data.slice(0, this.length).sort();
    return { p50Ms: percentile(sorted, 50) / 1e6, p99Ms: percentile(sorted, 99) / 1e6 };
  }
}

/**
 * Data keys kept in memory: least recently used first out beyond `capacity`, one load at a
 * time per id (concurrent misses share it), and every key zeroed when it leaves.
 */
export interface CacheEntry<V> {
  key: Buffer;
  value: V;
  createdAt: number;
  messages: number;
  bytes: number;
  /** Out of the cache, key zeroed. */
  evicted?: boolean;
}

export class DataKeyCache<V> {
  private readonly entries = new Map<string, CacheEntry<V>>();
  private readonly loading = new Map<string, Promise<CacheEntry<V>>>();

  constructor(readonly capacity: number) {}

  get size(): number {
    return this.entries.size;
  }

  /** The entry, now the most recently used. */
  get(id: string): CacheEntry<V> | undefined {
    const e = this.entries.get(id);
    if (e) {
      this.entries.delete(id);
      this.entries.set(id, e);
    }
    return e;
  }

  /** The entry `load` makes, or the one a load already under way for `id` will make. */
  load(id: string, load: () => Promise<CacheEntry<V>>): Promise<CacheEntry<V>> {
    let p = this.loading.get(id);
    if (!p) {
      p = load().then(
        (e) => {
          this.loading.delete(id);
          this.put(id, e);
          return e;
        },
        (err: unknown) => {
          this.loading.delete(id);
          throw err;
        },
      );
      this.loading.set(id, p);
    }
    return p;
  }

  /** Removes the entry (if it is still `entry`) and zeroes its key. */
  evict(id: string, entry?: CacheEntry<V>): void {
    const e = this.entries.get(id);
    if (!e || (entry && e !== entry)) return;
    this.entries.delete(id);
    e.evicted = true;
    e.key.fill(0);
  }

  clear(): void {
    for (const id of [...this.entries.keys()]) this.evict(id);
  }

  private put(id: string, e: CacheEntry<V>): void {
    this.evict(id);
    this.entries.set(id, e);
    while (this.entries.size > this.capacity) this.evict(this.entries.keys().next().value!);
  }
}

import { ChangeFeed, ChangeKind } from './change-feed';

interface Entry<V> {
  value: V | null;
  /** Read since the sweep last passed it: spared once (second chance). */
  used: boolean;
}

/**
 * Rows by id, loaded on first use and dropped when the change feed reports a change from any
 * process; every cache the feed invalidates is one of these. A hit returns the value itself,
 * not a promise, and costs one flag write (no allocation, no await): Encrypt and Decrypt read
 * one per call. Concurrent misses for an id share one load. Misses (null: no such row) are
 * cached too, until a row with that id is written, but only while the cache has room, so
 * random ids neither fill memory nor push real entries out. Full, it evicts in insertion order
 * and spares an entry read since the sweep last passed it (second chance, close to LRU).
 * While the feed is stale (it cannot poll), the cache holds nothing: each read loads, so a
 * change made elsewhere meanwhile is never missed (fail closed).
 */
export class InvalidatedCache<V> {
  private readonly map = new Map<string, Entry<V>>();
  /**
   * Loads under way. A load fills the cache only while it is still the one listed for its id:
   * `drop` of that id and `dropWhere` unlist it, since it may have read the row from before
   * the change; a change to any other id leaves it be.
   */
  private readonly loading = new Map<string, Promise<V | null>>();

  /** The feed that invalidates it (set by the first `dropOn`): the cache fills only while it is fresh. */
  private feed?: ChangeFeed;

  /** Reads answered from memory, and those that had to load (or join a load): plain counts the metrics read. */
  hits = 0;
  misses = 0;

  constructor(
    private readonly load: (id: string) => Promise<V | null>,
    private readonly capacity: number,
  ) {}

  get(id: string): V | null | Promise<V | null> {
    const hit = this.map.get(id);
    if (hit !== undefined) {
      hit.used = true;
      this.hits++;
      return hit.value;
    }
    this.misses++;
    let p = this.loading.get(id);
    if (!p) {
      const loaded: Promise<V | null> = this.load(id).then((value) => {
        if (this.loading.get(id) === loaded) this.fill(id, value);
        return value;
      });
      p = loaded;
      loaded.finally(() => this.loading.get(id) === loaded && this.loading.delete(id)).catch(() => undefined);
      this.loading.set(id, loaded);
    }
    return p;
  }

  /**
   * Drops what the cache holds on `kind` events: the entry keyed by the event's id, or,
   * with `match`, every entry it matches (a change that concerns many entries, like an
   * account's status for all its credentials).
   */
  dropOn(feed: ChangeFeed, kind: ChangeKind, match?: (ref: string, value: V | null) => boolean): void {
    if (!this.feed) {
      this.feed = feed;
      feed.onStale(() => this.dropWhere(() => true));
    }
    feed.on(kind, match ? (ref) => this.dropWhere((v) => match(ref, v)) : (ref) => this.drop(ref));
  }

  get size(): number {
    return this.map.size;
  }

  /** Later callers must not join a load under way either: a fresh load reads after the change. */
  drop(id: string): void {
    this.map.delete(id);
    this.loading.delete(id);
  }

  /** As `drop`, for entries by value; every load under way may have read the changed rows. */
  dropWhere(match: (value: V | null) => boolean): void {
    this.loading.clear();
    for (const [id, e] of this.map) if (match(e.value)) this.map.delete(id);
  }

  private fill(id: string, value: V | null): void {
    if (this.feed && !this.feed.fresh) return;
    if (this.map.size >= this.capacity && !this.map.has(id)) {
      if (value === null) return;
      this.evictOne();
    }
    this.map.set(id, { value, used: false });
  }

  /** Removes the oldest entry not read since the sweep last passed it; those read go to the back, unmarked. */
  private evictOne(): void {
    for (const [id, e] of this.map) {
      this.map.delete(id);
      if (!e.used) return;
      e.used = false;
      this.map.set(id, e);
    }
  }
}

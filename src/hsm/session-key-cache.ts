import { Handle } from './token';

interface Entry {
  handle: Handle;
  /** The CMK the material belongs to, when known: a change to the key drops its entries. */
  key?: string;
  /** Operations running on it: an entry evicted meanwhile is destroyed when the last ends. */
  pins: number;
  evicted: boolean;
}

export interface SessionKeyCacheStats {
  entries: number;
  capacity: number;
  hits: number;
  misses: number;
  /** Total time spent unwrapping on misses, in nanoseconds. */
  unwrapNs: number;
}

/**
 * Unwrapped material as session objects, by material id: a bounded LRU whose evicted
 * entries are destroyed in the token (`destroy`). An entry in use is destroyed only once its
 * last user is done. Handles belong to one module instance and one login: `reset` forgets
 * them all without destroying (the token already did).
 */
export class SessionKeyCache {
  private readonly map = new Map<string, Entry>();
  private readonly counters = { hits: 0, misses: 0, unwrapNs: 0 };

  constructor(
    readonly capacity: number,
    private readonly destroy: (handle: Handle) => void,
  ) {}

  /** The entry's handle, pinned (call `unpin` when done), or undefined. */
  pin(id: string): Handle | undefined {
    const e = this.map.get(id);
    if (!e) return undefined;
    this.map.delete(id);
    this.map.set(id, e);
    e.pins++;
    this.counters.hits++;
    return e.handle;
  }

  /** Adds a fresh handle, pinned; `unwrapNs` is what making it cost. */
  add(id: string, handle: Handle, key: string | undefined, unwrapNs: number): void {
    this.counters.misses++;
    this.counters.unwrapNs += unwrapNs;
    this.evict(id);
    this.map.set(id, { handle, key, pins: 1, evicted: false });
    while (this.map.size > this.capacity) this.evict(this.map.keys().next().value as string);
  }

  unpin(id: string, handle: Handle): void {
    const e = this.map.get(id);
    const entry = e && e.handle === handle ? e : this.orphans.get(handle);
    if (!entry) return;
    entry.pins--;
    if (entry.evicted && entry.pins === 0) {
      this.orphans.delete(handle);
      this.destroyQuietly(handle);
    }
  }

  /** Drops (and destroys) the entry of material `id`. */
  evict(id: string): void {
    const e = this.map.get(id);
    if (!e) return;
    this.map.delete(id);
    e.evicted = true;
    if (e.pins === 0) this.destroyQuietly(e.handle);
    else this.orphans.set(e.handle, e);
  }

  /** Drops every entry of the CMK `key`. */
  evictKey(key: string): void {
    for (const [id, e] of this.map) if (e.key === key) this.evict(id);
  }

  /** Forgets every handle without destroying it: the module was reloaded or the login changed, and the objects are gone. */
  reset(): void {
    this.map.clear();
    this.orphans.clear();
  }

  stats(): SessionKeyCacheStats {
    return { entries: this.map.size, capacity: this.capacity, ...this.counters };
  }

  /** Evicted entries still in use, by handle. */
  private readonly orphans = new Map<Handle, Entry>();

  private destroyQuietly(handle: Handle): void {
    try {
      this.destroy(handle);
    } catch {
      /* gone with its session or module already */
    }
  }
}

/** A bounded LRU of object handles keyed by CKA_ID (hex); C_FindObjects is slow on big tokens. */
export class HandleCache {
  private readonly map = new Map<string, Buffer>();
  /** Plain counts the metrics read. */
  hits = 0;
  misses = 0;
  constructor(private readonly capacity = 10_000) {}

  get(id: string): Buffer | undefined {
    const h = this.map.get(id);
    if (h !== undefined) {
      this.hits++;
      this.map.delete(id);
      this.map.set(id, h);
    } else this.misses++;
    return h;
  }
  set(id: string, handle: Buffer): void {
    this.map.delete(id);
    this.map.set(id, handle);
    if (this.map.size > this.capacity) this.map.delete(this.map.keys().next().value as string);
  }
  delete(id: string): void {
    this.map.delete(id);
  }
  clear(): void {
    this.map.clear();
  }
}

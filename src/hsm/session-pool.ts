/**
 * A bounded pool of PKCS#11 sessions. In sync mode a session is taken and given back within
 * one tick, so the pool rarely holds more than one; in async mode concurrent calls each
 * hold one, and callers beyond `max` wait in line.
 */
export class SessionPool {
  private idle: Buffer[] = [];
  private open = 0;
  private waiters: Array<{ resolve: (s: Buffer) => void; reject: (e: Error) => void }> = [];

  constructor(private readonly max: number, private readonly openSession: () => Buffer, private readonly closeSession: (s: Buffer) => void) {}

  /** Sessions open and lent out now, and callers waiting for one (for the metrics). */
  get inUse(): number {
    return this.open - this.idle.length;
  }
  get waiting(): number {
    return this.waiters.length;
  }

  /** Returns an idle session or opens one; undefined when the pool is exhausted. */
  tryAcquire(): Buffer | undefined {
    const s = this.idle.pop();
    if (s) return s;
    if (this.open < this.max) {
      const fresh = this.openSession();
      this.open++;
      return fresh;
    }
    return undefined;
  }

  acquire(): Promise<Buffer> {
    const s = this.tryAcquire();
    if (s) return Promise.resolve(s);
    return new Promise((resolve, reject) => this.waiters.push({ resolve, reject }));
  }

  release(s: Buffer): void {
    const w = this.waiters.shift();
    if (w) w.resolve(s);
    else this.idle.push(s);
  }

  /** A session whose state is unknown after an error is closed rather than reused. */
  discard(s: Buffer): void {
    this.open--;
    try {
      this.closeSession(s);
    } catch {
      /* the session is already gone */
    }
    const w = this.waiters.shift();
    if (w) {
      try {
        const fresh = this.openSession();
        this.open++;
        w.resolve(fresh);
      } catch (e) {
        w.reject(e as Error);
      }
    }
  }

  /** Forgets every session (the module is finalized, which closes them all) and fails whoever waits for one. */
  reset(reason: () => Error): void {
    this.idle = [];
    this.open = 0;
    for (const w of this.waiters.splice(0)) w.reject(reason());
  }
}

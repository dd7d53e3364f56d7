/**
 * A bounded pool of PKCS#11 sessions. In sync mode a session is taken and given back within
 * one tick, so the pool rarely holds more than one; in async mode concurrent calls each
 * hold one, and callers beyond `max` wait in line.
 */
export class SessionPool {
  private idle: Buffer[] = [];
  private open = 0;
  private waiters: Array<(s: Buffer) => void> = [];

  constructor(private readonly max: number, private readonly openSession: () => Buffer, private readonly closeSession: (s: Buffer) => void) {}

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
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  release(s: Buffer): void {
    const w = this.waiters.shift();
    if (w) w(s);
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
        w(fresh);
      } catch {
        this.waiters.unshift(w);
      }
    }
  }

  /** Forgets every session (the module was finalized, which closed them all). */
  reset(): void {
    this.idle = [];
    this.open = 0;
  }

  get size(): number {
    return this.open;
  }
}

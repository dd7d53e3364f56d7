import { SessionPool } from '../../src/hsm/session-pool';

/** The pool's bookkeeping on its own (sessions are opaque buffers here; the token tests use real ones). */
describe('SessionPool', () => {
  const make = (max: number) => {
    let n = 0;
    const closed: number[] = [];
    const pool = new SessionPool(max, () => Buffer.from([n++]), (s) => closed.push(s[0]));
    return { pool, closed };
  };

  it('opens up to max sessions, then queues callers until one is released', async () => {
    const { pool } = make(2);
    const a = pool.tryAcquire()!;
    pool.tryAcquire();
    expect(pool.tryAcquire()).toBeUndefined();
    const waiting = pool.acquire();
    pool.release(a);
    expect(await waiting).toBe(a);
  });

  it('hands a fresh session to a waiter when a broken one is discarded', async () => {
    const { pool, closed } = make(1);
    const a = pool.tryAcquire()!;
    const waiting = pool.acquire();
    pool.discard(a);
    expect(closed).toEqual([0]);
    expect((await waiting)[0]).toBe(1);
  });

  it('fails the waiter, and counts no session for it, when no fresh one can be opened in place of a discarded one', async () => {
    let refuse = false;
    const pool = new SessionPool(1, () => {
      if (refuse) throw new Error('CKR_DEVICE_ERROR');
      return Buffer.from([0]);
    }, () => undefined);
    const a = pool.tryAcquire()!;
    const waiting = pool.acquire();
    refuse = true;
    pool.discard(a);
    await expect(waiting).rejects.toThrow('CKR_DEVICE_ERROR');
    expect(pool.inUse).toBe(0);
    refuse = false;
    expect(pool.tryAcquire()).toBeDefined();
  });

  it('fails every waiter when the module goes away, instead of leaving them hanging', async () => {
    const { pool } = make(1);
    pool.tryAcquire();
    const waiters = [pool.acquire(), pool.acquire()];
    pool.reset(() => new Error('token gone'));
    for (const w of waiters) await expect(w).rejects.toThrow('token gone');
    expect(pool.tryAcquire()).toBeDefined();
  });
});

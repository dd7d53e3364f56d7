import { DataSource, EntityManager } from 'typeorm';
import { Mutex } from '../common/mutex';

/** May return a promise: the transaction's caller then waits for it too. */
type Hook = () => void | Promise<void>;
/**
 * The hooks of each open transaction, by its query runner (what a transaction's manager
 * carries). Not an AsyncLocalStorage: on Node 20 one enabled AsyncLocalStorage puts a hook on
 * every promise of the process, which costs the hot path a measurable share.
 */
const open = new WeakMap<object, Hook[]>();

/**
 * Runs `hook` once the transaction `manager` belongs to has ended (committed or rolled back),
 * or at once for a manager of no open transaction. Cache invalidation uses it: a cache told to drop an entry
 * before the commit could reload the row before it is written; told after a roll-back, it
 * drops whatever it read of the uncommitted state (on SQLite a process's one connection sees
 * its own open transaction).
 */
export function afterTransaction(manager: EntityManager, hook: Hook): void {
  const hooks = manager.queryRunner ? open.get(manager.queryRunner) : undefined;
  if (hooks) hooks.push(hook);
  else void hook();
}

/**
 * Wraps `ds.transaction` (every repository's transactions go through it) to run the
 * `afterTransaction` hooks. On SQLite it also
 * - runs one transaction at a time per process: better-sqlite3 gives a process one
 *   connection, so two transactions at once would interleave on it (nesting as savepoints,
 *   committing each other's work). A write made outside `ds.transaction` would join whichever transaction is open on that
 *   connection and share its fate: every write therefore goes through `ds.transaction`;
 * - begins every transaction as a writer (BEGIN IMMEDIATE): a deferred transaction that reads
 *   and then writes fails with SQLITE_BUSY when another process committed in between, which
 *   busy_timeout cannot wait out; a writer waits for the lock up front instead, until
 *   SQLITE_LOCK_WAIT_MS after it asked for its transaction: the time it queued behind this
 *   process's other transactions counts, or a write queued behind one that waits out a lock
 *   held elsewhere (the audit trail's flush, say) would wait twice as long.
 */
export function installTransactionHooks(ds: DataSource): void {
  const manager = ds.manager;
  const original = manager.transaction.bind(manager) as (...args: unknown[]) => Promise<unknown>;
  const sqlite = ds.options.type === 'better-sqlite3';
  const mutex = new Mutex();
  // The deadline of the transaction under way (the mutex runs one at a time); 0 outside one.
  let lockDeadline = 0;
  if (sqlite) beginAsWriter(ds, () => lockDeadline || Date.now() + SQLITE_LOCK_WAIT_MS);
  // Hooks run as the transaction ends (on SQLite still inside the mutex); the promises they
  // return are awaited after it, so that the next transaction need not wait for them.
  const run = (args: unknown[], waits: Array<Promise<void>>): Promise<unknown> => {
    const hooks: Hook[] = [];
    let runner: object | undefined;
    // transaction(fn) or transaction(isolationLevel, fn); DataSource passes (fn, undefined).
    const wrapped = args.map((a) =>
      typeof a === 'function'
        ? (m: EntityManager) => {
            runner = m.queryRunner;
            if (runner) open.set(runner, hooks);
            return (a as (m: EntityManager) => Promise<unknown>)(m);
          }
        : a,
    );
    return original(...wrapped).finally(() => {
      if (runner) open.delete(runner);
      for (const h of hooks) {
        const w = h();
        if (w) waits.push(w);
      }
    });
  };
  const settle = async (p: Promise<unknown>, waits: Array<Promise<void>>): Promise<unknown> => {
    try {
      return await p;
    } finally {
      if (waits.length) await Promise.all(waits);
    }
  };
  (manager as { transaction: unknown }).transaction = (...args: unknown[]) => {
    const waits: Array<Promise<void>> = [];
    if (!sqlite) return settle(run(args, waits), waits);
    const deadline = Date.now() + SQLITE_LOCK_WAIT_MS;
    return settle(
      mutex.run(() => {
        lockDeadline = deadline;
        return run(args, waits).finally(() => (lockDeadline = 0));
      }),
      waits,
    );
  };
}

function beginAsWriter(ds: DataSource, deadline: () => number): void {
  const qr = ds.driver.createQueryRunner('master');
  const query = qr.query.bind(qr) as (sql: string, ...rest: unknown[]) => Promise<unknown>;
  const db = (ds.driver as unknown as { databaseConnection: { pragma(source: string): unknown } }).databaseConnection;
  (qr as { query: unknown }).query = (sql: string, ...rest: unknown[]) => (sql === 'BEGIN TRANSACTION' ? beginImmediate(db, deadline(), () => query('BEGIN IMMEDIATE', ...rest)) : query(sql, ...rest));
}

/** How long a write waits for SQLite's write lock before it fails (SQLITE_BUSY: each face's retry-later error). */
export const SQLITE_LOCK_WAIT_MS = 5000;
/** The longest pause between two tries for the lock. */
const LOCK_RETRY_MAX_MS = 20;

/**
 * BEGIN IMMEDIATE without SQLite's busy handler, retried on SQLITE_BUSY after a timer: the
 * handler sleeps in the calling thread, which here is the one serving every request of the
 * process, so a lock held elsewhere (another worker's write, the CLI, a shell) would hold up
 * calls that need no database for as long as it lasts. Only taking the lock waits this way;
 * statements inside a transaction never wait for it, and reads in WAL mode take none.
 */
async function beginImmediate(db: { pragma(source: string): unknown }, deadline: number, begin: () => Promise<unknown>): Promise<unknown> {
  for (let pause = 1; ; pause = Math.min(pause * 2, LOCK_RETRY_MAX_MS)) {
    db.pragma('busy_timeout = 0');
    try {
      return await begin();
    } catch (e) {
      if (!isBusy(e) || Date.now() >= deadline) throw e;
    } finally {
      db.pragma(`busy_timeout = ${SQLITE_LOCK_WAIT_MS}`);
    }
    await new Promise((r) => setTimeout(r, Math.min(pause, Math.max(1, deadline - Date.now()))));
  }
}

function isBusy(e: unknown): boolean {
  const err = e as { code?: unknown; driverError?: { code?: unknown } };
  const code = err.driverError?.code ?? err.code;
  return typeof code === 'string' && code.startsWith('SQLITE_BUSY');
}

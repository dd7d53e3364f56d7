import { Worker } from 'node:worker_threads';

/** One SQL statement with its positional parameters. */
export type Statement = [sql: string, params: unknown[]];

/**
 * A single-row statement run once per line of `lines`: UTF-8 text, one JSON array of
 * parameters per line. It crosses to the thread as one transferred buffer, where an array of
 * thousands of values took the serving thread milliseconds to clone.
 */
export interface RowsStatement {
  sql: string;
  lines: Uint8Array;
}

/** Prepared statements the thread keeps, by SQL: the audit trail uses three. */
const PREPARED_MAX = 16;

/**
 * The thread's code, evaluated as CommonJS: one better-sqlite3 connection of its own that runs
 * each batch's statements in one transaction (BEGIN IMMEDIATE, as the service's connection
 * does: the write lock is taken up front, and busy_timeout waits for it in this thread).
 */
const THREAD = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.file);
db.pragma('busy_timeout = ' + workerData.busyTimeoutMs);
db.pragma('synchronous = NORMAL');
const bind = (v) => (v === undefined ? null : typeof v === 'boolean' ? Number(v) : v);
const prepared = new Map();
function statement(sql) {
  let s = prepared.get(sql);
  if (!s) {
    if (prepared.size >= ${PREPARED_MAX}) prepared.clear();
    s = db.prepare(sql);
    prepared.set(sql, s);
  }
  return s;
}
const decoder = new TextDecoder();
parentPort.on('message', ({ id, statements }) => {
  try {
    db.exec('BEGIN IMMEDIATE');
    try {
      for (const s of statements) {
        if (Array.isArray(s)) statement(s[0]).run(s[1].map(bind));
        else {
          const insert = statement(s.sql);
          for (const line of decoder.decode(s.lines).split('\\n')) if (line) insert.run(JSON.parse(line).map(bind));
        }
      }
      db.exec('COMMIT');
    } catch (e) {
      if (db.inTransaction) db.exec('ROLLBACK');
      throw e;
    }
    parentPort.postMessage({ id });
  } catch (e) {
    parentPort.postMessage({ id, error: String((e && e.message) || e) });
  }
});
`;

/**
 * Writes the audit trail's batches to SQLite from a thread of its own. better-sqlite3 is
 * synchronous: on the serving thread a batch of a few thousand rows held the event loop for
 * milliseconds every flush (the service's p99), and a locked database held it for the whole
 * busy_timeout. Here the serving thread only posts the statements and awaits the answer.
 */
export class SqliteAuditWriter {
  private thread: Worker | null = null;
  private next = 1;
  private readonly pending = new Map<number, { resolve: () => void; reject: (e: Error) => void }>();

  constructor(
    private readonly file: string,
    private readonly busyTimeoutMs = 5000,
  ) {}

  /**
   * Runs `statements` in one transaction; rejects with the database's error (nothing is then
   * written). The lines of RowsStatements are transferred: they are empty here afterwards.
   */
  write(statements: Array<Statement | RowsStatement>): Promise<void> {
    const thread = this.thread ?? this.start();
    const id = this.next++;
    const transfer = statements.flatMap((s) => (Array.isArray(s) ? [] : [s.lines.buffer as ArrayBuffer]));
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      thread.postMessage({ id, statements }, transfer);
    });
  }

  async close(): Promise<void> {
    const t = this.thread;
    this.thread = null;
    if (t) await t.terminate();
  }

  private start(): Worker {
    const thread = new Worker(THREAD, { eval: true, workerData: { driver: require.resolve('better-sqlite3'), file: this.file, busyTimeoutMs: this.busyTimeoutMs } });
    // It must not keep a stopping process alive; the trail flushes before the process ends.
    thread.unref();
    thread.on('message', (m: { id: number; error?: string }) => {
      const p = this.pending.get(m.id);
      this.pending.delete(m.id);
      if (m.error === undefined) p?.resolve();
      else p?.reject(new Error(m.error));
    });
    // A thread that dies fails what it had; the next write starts another.
    const fail = (e: Error) => {
      if (this.thread === thread) this.thread = null;
      for (const p of this.pending.values()) p.reject(e);
      this.pending.clear();
    };
    thread.on('error', fail);
    thread.on('exit', (code) => fail(new Error(`the audit writer thread stopped (exit code ${code})`)));
    this.thread = thread;
    return thread;
  }
}

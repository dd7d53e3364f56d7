import { BeforeApplicationShutdown, Inject, Injectable, OnApplicationBootstrap } from '@nestjs/common';
import * as crypto from 'node:crypto';
import { DataSource } from 'typeorm';
import { Clock } from '../common/clock';
import { ServiceUnavailableError } from '../common/domain-errors';
import { Log } from '../common/logger';
import { KMS_CONFIG, KmsConfig } from '../config/config';
import { AuditChainEntity } from './audit-chain.entity';
import { AuditEvent, baseSealMessage, genesisHash, headSealMessage, queuedRecord } from './audit-event';
import { AuditRecordEntity } from './audit-record.entity';
import { AuditSealer } from './audit-sealer';
import { RecordBatch } from './record-batch';
import { RowsStatement, SqliteAuditWriter, Statement } from './sqlite-audit-writer';

export const FLUSH_MS = 200;
/**
 * Records per transaction, and the queue length that starts a write before the timer. Fewer,
 * larger commits matter on SQLite, where the workers of an instance take turns at one write
 * lock (waited for in the writer thread, for the batches that use it). 2,000 rows of 15
 * parameters stay within SQLite's 32,766 and PostgreSQL's 65,535.
 */
export const BATCH = 2000;
/** KMS_AUDIT=required refuses calls once records have waited this long to be written. */
export const REFUSE_AFTER_MS = 5000;
/** Records kept in memory while the database is away; beyond, new ones are dropped (and counted). */
const MAX_QUEUED = 200_000;
const SHUTDOWN_FLUSH_MS = 5000;
/**
 * On SQLite, batches of at least this many records are written from a thread of their own
 * (SqliteAuditWriter): only a busy process makes them, and a CLI command never starts the thread.
 */
const THREAD_MIN_BATCH = 64;
const WARN_EVERY_MS = 10_000;

const CHAIN_COLUMNS = ['writer', 'started_at', 'base_seq', 'base_hash', 'base_mac', 'head_seq', 'head_hash', 'head_at', 'head_mac'].map((c) => `"${c}"`).join(', ');
/** In the order of a QueuedRecord's row. */
const RECORD_COLUMNS = ['writer', 'seq', 'at', 'face', 'action', 'account', 'sub_user', 'secret_id', 'keys', 'request_id', 'source', 'client_cert', 'result', 'duration_ms', 'hash'].map((c) => `"${c}"`).join(', ');
/** One record, run once per row by the SQLite writer thread (prepared once there). */
const INSERT_ROW = `INSERT INTO audit_records (${RECORD_COLUMNS}) VALUES (${RECORD_COLUMNS.split(', ').map(() => '?').join(', ')})`;

interface Batch {
  records: RecordBatch;
  attempts: number;
}

/**
 * The audit trail of one process (one writer, one hash chain). `record` chains the record
 * (its hash covers the previous hash and its canonical form) and queues it, without I/O;
 * every FLUSH_MS (or at BATCH records) the queue is written in one transaction, and the new
 * head sealed with a MAC from the token in that same transaction. Chaining as records come
 * spreads the hashing over the requests: chaining a batch at once held a busy event loop for
 * 4-12 ms every flush. A batch that fails is
 * retried as it was, so nothing accepted is lost and no sequence number is skipped. On SQLite,
 * whose driver is synchronous, large batches are written by a thread of their own
 * (SqliteAuditWriter), so that the serving event loop does not wait on the INSERT or the lock.
 */
@Injectable()
export class AuditTrail implements OnApplicationBootstrap, BeforeApplicationShutdown {
  readonly writer = crypto.randomUUID();
  private readonly mode: KmsConfig['audit']['mode'];
  /** Batches of at most BATCH records, the last one open. */
  private queue: RecordBatch[] = [];
  private queued = 0;
  private pending: Batch | null = null;
  private lastSeq = 0;
  private lastHash: string;
  private created = false;
  /** Persisted, but the head seal is older (the token was away). */
  private unsealed = false;
  /** Real time since which some accepted record has waited to be written; 0: none waits. */
  private waitingSince = 0;
  /** Real time at which the write under way started; 0: none is. */
  private writingSince = 0;
  private flushing: Promise<void> | null = null;
  private soon = false;
  private timer: NodeJS.Timeout | null = null;
  private failing = false;
  private lastWarn = 0;
  private dropped = 0;
  private failures = 0;
  /** SQLite: the thread that writes large batches off the event loop. */
  private readonly thread: SqliteAuditWriter | null;

  constructor(
    @Inject(DataSource) private readonly ds: DataSource,
    @Inject(KMS_CONFIG) cfg: KmsConfig,
    private readonly clock: Clock,
    private readonly sealer: AuditSealer,
  ) {
    this.mode = cfg.audit.mode;
    this.lastHash = genesisHash(this.writer);
    this.thread = ds.options.type === 'better-sqlite3' && this.mode !== 'off' ? new SqliteAuditWriter(ds.options.database as string) : null;
  }

  get enabled(): boolean {
    return this.mode !== 'off';
  }

  /** KMS_AUDIT=required: requests are refused while records cannot be written. */
  get required(): boolean {
    return this.mode === 'required';
  }

  /** The time to stamp a record with: the service's clock (which tests may move). */
  now(): number {
    return this.clock.nowMs();
  }

  /** Queues a record; never waits, never throws. */
  record(e: AuditEvent): void {
    if (this.mode === 'off') return;
    if (this.queued >= MAX_QUEUED) {
      if (this.dropped++ === 0) Log.error('audit queue full: records are being dropped', { queued: this.queued });
      return;
    }
    const r = queuedRecord(this.writer, ++this.lastSeq, this.lastHash, e);
    this.lastHash = r.hash;
    let open = this.queue[this.queue.length - 1];
    if (!open || open.count >= BATCH) this.queue.push((open = new RecordBatch()));
    open.add(r);
    this.queued++;
    if (this.waitingSince === 0) this.waitingSince = Date.now();
    if (this.queued >= BATCH && !this.soon) {
      this.soon = true;
      setImmediate(() => {
        this.soon = false;
        void this.flush();
      });
    }
  }

  /** In `required` mode, throws ServiceUnavailableError while records cannot be written. */
  assertAccepting(): void {
    if (this.mode === 'required' && this.stalled()) {
      throw new ServiceUnavailableError('the audit trail cannot be written at the moment; retry later');
    }
  }

  /** False while the last write failed or records have waited REFUSE_AFTER_MS (a hung write); always true when off. */
  get writable(): boolean {
    return this.mode === 'off' || !(this.failing || this.stalled());
  }

  /**
   * A write under way for REFUSE_AFTER_MS (a hung database), or failing writes while records
   * have waited that long. Not the wait alone: an event loop blocked for seconds (a starved
   * machine, a slow synchronous token call) delays the flush timer, and the records it finds
   * waiting on waking up would otherwise refuse the next request though nothing failed.
   */
  private stalled(): boolean {
    const now = Date.now();
    if (this.writingSince !== 0 && now - this.writingSince >= REFUSE_AFTER_MS) return true;
    return this.failing && this.waitingSince !== 0 && now - this.waitingSince >= REFUSE_AFTER_MS;
  }

  /** What the metrics show: records waiting to be written, failed writes, records dropped (queue full). */
  stats(): { queued: number; failures: number; dropped: number } {
    return { queued: this.backlog(), failures: this.failures, dropped: this.dropped };
  }

  onApplicationBootstrap(): void {
    if (this.mode === 'off') return;
    this.timer = setInterval(() => void this.flush(), FLUSH_MS);
    this.timer.unref();
  }

  /** Before the database and the token close: write what is queued, trying for a while. */
  async beforeApplicationShutdown(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    const until = Date.now() + SHUTDOWN_FLUSH_MS;
    while (this.backlog() > 0 && Date.now() < until) {
      await this.flush();
      if (this.backlog() > 0) await new Promise((r) => setTimeout(r, 100));
    }
    if (this.backlog() > 0) Log.error('audit records could not be written before the process stopped', { lost: this.backlog() });
    if (this.dropped) Log.error('audit records were dropped because the queue was full', { dropped: this.dropped });
    await this.thread?.close();
  }

  private backlog(): number {
    return this.queued + (this.pending?.records.count ?? 0);
  }

  /** Writes everything queued; one flush at a time. Resolves when this round is over (written or failed). */
  flush(): Promise<void> {
    if (this.flushing) {
      // A write that hangs (a locked table, a database that does not answer) fails nothing: say so.
      if (this.stalled()) this.warnFailing(`the database has not completed a write for ${Math.round((Date.now() - this.writingSince) / 1000)} s`);
      return this.flushing;
    }
    if (!this.pending && this.queued === 0 && !this.unsealed) return Promise.resolve();
    this.flushing = this.drain().finally(() => (this.flushing = null));
    return this.flushing;
  }

  private async drain(): Promise<void> {
    try {
      while (this.pending || this.queued || this.unsealed) {
        if (!this.pending && this.queued) {
          const records = this.queue.shift()!;
          this.queued -= records.count;
          this.pending = { records, attempts: 0 };
        }
        if (this.pending) {
          const batch = this.pending;
          batch.attempts++;
          this.writingSince = Date.now();
          await this.persist(batch);
          this.pending = null;
          batch.records.release();
        } else {
          this.writingSince = Date.now();
          await this.sealHead();
        }
        this.writingSince = 0;
        this.waitingSince = this.queued ? Date.now() : 0;
      }
      if (this.failing) Log.warn('audit trail written again after a failure', { waiting: this.backlog() });
      this.failing = false;
    } catch (e) {
      this.writingSince = 0;
      this.failures++;
      this.warnFailing((e as Error).message);
    }
  }

  private warnFailing(error: string): void {
    const now = Date.now();
    if (!this.failing || now - this.lastWarn >= WARN_EVERY_MS) {
      this.lastWarn = now;
      const msg = this.mode === 'required' ? 'audit records cannot be written; retrying (requests are refused after 5 s)' : 'audit records cannot be written; retrying';
      Log.error(msg, { error, waiting: this.backlog() });
    }
    this.failing = true;
  }

  private async persist(batch: Batch): Promise<void> {
    const { records } = batch;
    const last = { seq: records.lastSeq, hash: records.lastHash, at: records.lastAt };
    // A retried batch may have been committed already (the answer to the commit was lost).
    if (batch.attempts > 1 && (await this.stored(last))) return;
    const head = await this.sealer.seal(headSealMessage(this.writer, last.seq, last.hash, last.at)).catch((e: unknown) => {
      if (!this.created) throw e;
      Log.warn('audit head not sealed (the token is unavailable); sealing it later', { error: (e as Error).message });
      return null;
    });
    const statements: Array<Statement | RowsStatement> = [];
    const thread = this.thread && records.count >= THREAD_MIN_BATCH ? this.thread : null;
    if (!this.created) {
      const baseMac = await this.sealer.seal(baseSealMessage(this.writer, 0, genesisHash(this.writer)));
      statements.push(this.statement(`INSERT INTO audit_chains (${CHAIN_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, [this.writer, records.firstAt, 0, genesisHash(this.writer), baseMac, last.seq, last.hash, last.at, head!]));
    }
    statements.push(thread ? { sql: INSERT_ROW, lines: records.lines() } : this.insertStatement(records.rows()));
    if (this.created && head) statements.push(this.statement('UPDATE audit_chains SET "head_seq" = ?, "head_hash" = ?, "head_at" = ?, "head_mac" = ? WHERE "writer" = ?', [last.seq, last.hash, last.at, head, this.writer]));
    if (thread) await thread.write(statements);
    else
      await this.ds.transaction(async (m) => {
        for (const [sql, params] of statements as Statement[]) await m.query(sql, params);
      });
    this.created = true;
    this.unsealed = head === null;
  }

  /** `sql` with `?` placeholders, numbered for PostgreSQL. */
  private statement(sql: string, params: unknown[]): Statement {
    if (this.ds.options.type !== 'postgres') return [sql, params];
    let n = 0;
    return [sql.replace(/\?/g, () => `$${++n}`), params];
  }

  /**
   * One multi-row INSERT in plain SQL: TypeORM's entity insert costs several times more CPU
   * per row, which the serving process pays (at 500 rows, 7,500 parameters: within both
   * databases' limits).
   */
  private insertStatement(rows: string[]): Statement {
    const pg = this.ds.options.type === 'postgres';
    const params: unknown[] = [];
    const values = rows.map((row) => {
      const marks = (JSON.parse(row) as unknown[]).map((v) => {
        params.push(v);
        return pg ? `$${params.length}` : '?';
      });
      return `(${marks.join(', ')})`;
    });
    return [`INSERT INTO audit_records (${RECORD_COLUMNS}) VALUES ${values.join(', ')}`, params];
  }

  private async stored(r: { seq: number; hash: string }): Promise<boolean> {
    const row = await this.ds.getRepository(AuditRecordEntity).findOne({ where: { writer: this.writer, seq: r.seq }, select: { hash: true } });
    if (!row) return false;
    if (row.hash !== r.hash) throw new Error(`audit record ${this.writer}/${r.seq} exists with another hash`);
    this.created = true;
    return true;
  }

  /** Seals the persisted head that a token outage left unsealed. */
  private async sealHead(): Promise<void> {
    const row = await this.ds.getRepository(AuditRecordEntity).findOne({ where: { writer: this.writer, seq: this.lastSeq } });
    if (!row) return void (this.unsealed = false);
    const mac = await this.sealer.seal(headSealMessage(this.writer, row.seq, row.hash, row.at));
    await this.ds.transaction((m) => m.update(AuditChainEntity, { writer: this.writer }, { headSeq: row.seq, headHash: row.hash, headAt: row.at, headMac: mac }));
    this.unsealed = false;
  }
}

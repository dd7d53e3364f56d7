import { Inject, Injectable, OnModuleDestroy, Optional } from '@nestjs/common';
import cluster from 'node:cluster';
import { DataSource, EntityManager, In, MoreThan } from 'typeorm';
import { Log } from '../common/logger';
import { KMS_CONFIG, KmsConfig } from '../config/config';
import { ChangeEventEntity } from './change-event.entity';
import { SiblingChanges } from './sibling-changes';
import { afterTransaction } from './transactions';

export type ChangeKind = 'key' | 'credential' | 'user' | 'account';
type Listener = (ref: string) => void;

const POLL_MS = 250;
/**
 * Sequence numbers can commit out of order on PostgreSQL (a transaction that took a number
 * early may commit after many later ones). Each poll first reads forward from the highest
 * number applied, page by page (KMS_CHANGE_FEED_PAGE), so that it keeps up whatever the write
 * rate; then it looks for numbers it has not applied among the last OVERLAP and those written
 * in the last WINDOW_MS, and reads just those rows (GAP_BATCH ids a query).
 */
const OVERLAP = 64;
const WINDOW_MS = 15_000;
const GAP_BATCH = 500;
const RETAIN_MS = 60 * 60 * 1000;
/**
 * After this long without a successful poll the feed is stale: a revocation made elsewhere
 * may be waiting unseen, so the caches it invalidates empty themselves and stop filling
 * (fail closed) until a poll succeeds again. The same bound as KMS_AUDIT=required's. Under
 * KMS_AUDIT=best-effort, which puts serving before guarantees while the database is away, the
 * caches are kept instead (logged): a revocation made elsewhere meanwhile takes effect here once
 * a poll succeeds again.
 */
export const STALE_MS = 5_000;

/** How long shutdown waits for a poll under way before the database closes anyway. */
const STOP_WAIT_MS = 2000;

/**
 * Cache invalidation across processes and instances sharing one database. A writer appends
 * an event in the same transaction as its change; every process polls the table four
 * times a second and tells its caches which entries to drop. Changes therefore reach every
 * instance within about 250 ms, and the request path itself never queries the database.
 */
@Injectable()
export class ChangeFeed implements OnModuleDestroy {
  private readonly listeners = new Map<ChangeKind, Listener[]>();
  private last = 0;
  /** seq -> when the event was written, for the events still inside the re-read range. */
  private readonly seen = new Map<number, number>();
  private timer: NodeJS.Timeout | null = null;
  /** The poll under way, if any: shutdown waits for it before the database closes. */
  private polling: Promise<void> | null = null;
  private lastPrune = 0;
  /** When a poll last succeeded. */
  private okAt = Date.now();
  /** False from STALE_MS after the last successful poll until the next one: see STALE_MS. */
  fresh = true;
  private readonly staleListeners: Array<() => void> = [];
  private staleWarnedAt = 0;

  private readonly page: number;
  private readonly keepWhenStale: boolean;
  /** In a cluster worker: the other workers of this instance, told of each change at once. */
  private readonly siblings = cluster.isWorker ? new SiblingChanges((kind, ref) => this.emit(kind as ChangeKind, ref)) : null;

  constructor(@Inject(DataSource) private readonly ds: DataSource, @Optional() @Inject(KMS_CONFIG) cfg?: Pick<KmsConfig, 'changeFeedPage'> & Partial<Pick<KmsConfig, 'audit'>>) {
    this.page = cfg?.changeFeedPage ?? 5000;
    this.keepWhenStale = cfg?.audit?.mode === 'best-effort';
  }

  on(kind: ChangeKind, fn: Listener): void {
    const list = this.listeners.get(kind) ?? [];
    list.push(fn);
    this.listeners.set(kind, list);
  }

  /** `fn` runs when the feed becomes stale (see STALE_MS). */
  onStale(fn: () => void): void {
    this.staleListeners.push(fn);
  }

  /**
   * Records a change inside the caller's transaction and, once that transaction has ended,
   * applies it in this process and in the other workers of this instance (the transaction
   * resolves after they have: see SiblingChanges); the poll applies it again on every process
   * of every instance once committed.
   */
  async publish(manager: EntityManager, kind: ChangeKind, ref: string): Promise<void> {
    await manager.insert(ChangeEventEntity, { kind, ref, at: Date.now() });
    afterTransaction(manager, () => {
      this.emit(kind, ref);
      return this.siblings?.tell(kind, ref);
    });
  }

  async start(): Promise<void> {
    const row = await this.ds.getRepository(ChangeEventEntity).createQueryBuilder('e').select('MAX(e.seq)', 'max').getRawOne<{ max: number | string | null }>();
    this.last = Number(row?.max ?? 0);
    // Staleness is judged on every tick, so a poll that hangs counts as much as one that fails.
    this.timer = setInterval(() => {
      this.checkStale();
      void this.poll();
    }, POLL_MS);
    this.timer.unref();
  }

  onModuleDestroy(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** No more polls, and the one under way is over: the database may close (its query would fail on a closed pool). */
  async stop(): Promise<void> {
    this.onModuleDestroy();
    if (!this.polling) return;
    // Not for ever: a poll can hang on a database that does not answer.
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.polling, new Promise<void>((r) => (timer = setTimeout(r, STOP_WAIT_MS)))]);
    clearTimeout(timer);
  }

  poll(): Promise<void> {
    if (this.polling) return this.polling;
    if (!this.ds.isInitialized) return Promise.resolve();
    this.polling = this.pollOnce().finally(() => (this.polling = null));
    return this.polling;
  }

  private async pollOnce(): Promise<void> {
    try {
      const now = Date.now();
      await this.advance();
      await this.fillGaps(now);
      for (const [seq, at] of this.seen) if (seq <= this.last - OVERLAP && at <= now - 2 * WINDOW_MS) this.seen.delete(seq);
      if (now - this.lastPrune > 60_000) {
        this.lastPrune = now;
        await this.ds.transaction((m) => m.createQueryBuilder().delete().from(ChangeEventEntity).where('at < :cut', { cut: now - RETAIN_MS }).execute());
      }
      this.okAt = Date.now();
      if (!this.fresh) Log.info('change feed polled again; caches fill again');
      this.fresh = true;
    } catch (e) {
      Log.warn('change feed poll failed', { error: (e as Error).message });
      this.checkStale();
    }
  }

  private checkStale(): void {
    if (!this.fresh || Date.now() - this.okAt <= STALE_MS) return;
    if (this.keepWhenStale) {
      if (Date.now() - this.staleWarnedAt >= 10_000) {
        this.staleWarnedAt = Date.now();
        Log.error('change feed stale: serving from the caches as they are (KMS_AUDIT=best-effort) until it polls again', { sinceMs: Date.now() - this.okAt });
      }
      return;
    }
    this.fresh = false;
    Log.error('change feed stale: caches emptied and bypassed until it polls again', { sinceMs: Date.now() - this.okAt });
    for (const fn of this.staleListeners) fn();
  }

  /** Applies the events after `last`, a page at a time, while pages come back full. */
  private async advance(): Promise<void> {
    const repo = this.ds.getRepository(ChangeEventEntity);
    for (;;) {
      const rows = await repo.find({ where: { seq: MoreThan(this.last) }, order: { seq: 'ASC' }, take: this.page });
      for (const r of rows) this.apply(r);
      if (rows.length < this.page) return;
    }
  }

  /**
   * Applies events that committed after later numbers were applied: it lists the numbers at
   * or below `last` that are among the last OVERLAP or inside the window (numbers only, so a
   * busy window costs little), then reads the rows of those not seen yet.
   */
  private async fillGaps(now: number): Promise<void> {
    const repo = this.ds.getRepository(ChangeEventEntity);
    const listed = await repo
      .createQueryBuilder('e')
      .select('e.seq', 'seq')
      .where('e.seq <= :last AND (e.seq > :floor OR e.at > :since)', { last: this.last, floor: this.last - OVERLAP, since: now - WINDOW_MS })
      .getRawMany<{ seq: number | string }>();
    const missing = listed.map((r) => Number(r.seq)).filter((seq) => !this.seen.has(seq));
    for (let i = 0; i < missing.length; i += GAP_BATCH) {
      const rows = await repo.find({ where: { seq: In(missing.slice(i, i + GAP_BATCH)) }, order: { seq: 'ASC' } });
      for (const r of rows) this.apply(r);
    }
  }

  private apply(r: ChangeEventEntity): void {
    if (this.seen.has(r.seq)) return;
    this.seen.set(r.seq, r.at);
    this.emit(r.kind as ChangeKind, r.ref);
    if (r.seq > this.last) this.last = r.seq;
  }

  private emit(kind: ChangeKind, ref: string): void {
    for (const fn of this.listeners.get(kind) ?? []) fn(ref);
  }
}

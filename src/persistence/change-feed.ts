import { Inject, Injectable, OnModuleDestroy } from '@nestjs/common';
import { DataSource, EntityManager, MoreThan } from 'typeorm';
import { Log } from '../common/logger';
import { ChangeEventEntity } from './change-event.entity';
import { afterTransaction } from './transactions';

export type ChangeKind = 'key' | 'credential' | 'user' | 'account';
type Listener = (ref: string) => void;

const POLL_MS = 250;
/**
 * Sequence numbers can commit out of order on PostgreSQL (a transaction that took a number
 * early may commit after many later ones): each poll re-reads the last OVERLAP numbers and
 * every event written in the last WINDOW_MS, and skips those it has already applied.
 */
const OVERLAP = 64;
const WINDOW_MS = 15_000;
const RETAIN_MS = 60 * 60 * 1000;

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
  private polling = false;
  private lastPrune = 0;

  constructor(@Inject(DataSource) private readonly ds: DataSource) {}

  on(kind: ChangeKind, fn: Listener): void {
    const list = this.listeners.get(kind) ?? [];
    list.push(fn);
    this.listeners.set(kind, list);
  }

  /**
   * Records a change inside the caller's transaction and applies it locally once that
   * transaction has ended; the poll applies it again on every process once committed.
   */
  async publish(manager: EntityManager, kind: ChangeKind, ref: string): Promise<void> {
    await manager.insert(ChangeEventEntity, { kind, ref, at: Date.now() });
    afterTransaction(manager, () => this.emit(kind, ref));
  }

  async start(): Promise<void> {
    const row = await this.ds.getRepository(ChangeEventEntity).createQueryBuilder('e').select('MAX(e.seq)', 'max').getRawOne<{ max: number | string | null }>();
    this.last = Number(row?.max ?? 0);
    this.timer = setInterval(() => void this.poll(), POLL_MS);
    this.timer.unref();
  }

  onModuleDestroy(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  async poll(): Promise<void> {
    if (this.polling || !this.ds.isInitialized) return;
    this.polling = true;
    try {
      const now = Date.now();
      const rows = await this.ds.getRepository(ChangeEventEntity).find({
        where: [{ seq: MoreThan(Math.max(0, this.last - OVERLAP)) }, { at: MoreThan(now - WINDOW_MS) }],
        order: { seq: 'ASC' },
        take: 5000,
      });
      for (const r of rows) {
        if (this.seen.has(r.seq)) continue;
        this.seen.set(r.seq, r.at);
        this.emit(r.kind as ChangeKind, r.ref);
        if (r.seq > this.last) this.last = r.seq;
      }
      for (const [seq, at] of this.seen) if (seq <= this.last - OVERLAP && at <= now - 2 * WINDOW_MS) this.seen.delete(seq);
      if (now - this.lastPrune > 60_000) {
        this.lastPrune = now;
        await this.ds.transaction((m) => m.createQueryBuilder().delete().from(ChangeEventEntity).where('at < :cut', { cut: now - RETAIN_MS }).execute());
      }
    } catch (e) {
      Log.warn('change feed poll failed', { error: (e as Error).message });
    } finally {
      this.polling = false;
    }
  }

  private emit(kind: ChangeKind, ref: string): void {
    for (const fn of this.listeners.get(kind) ?? []) fn(ref);
  }
}

import { Inject, Injectable, OnModuleDestroy } from '@nestjs/common';
import { DataSource, EntityManager, MoreThan } from 'typeorm';
import { Clock } from '../common/clock';
import { Log } from '../common/logger';
import { ChangeEventEntity } from './change-event.entity';

export type ChangeKind = 'key' | 'credential' | 'user';
type Listener = (ref: string) => void;

const POLL_MS = 250;
/** Sequence numbers can commit out of order on PostgreSQL: re-read this many behind the last seen. */
const OVERLAP = 64;
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
  private readonly seen = new Set<number>();
  private timer: NodeJS.Timeout | null = null;
  private polling = false;
  private lastPrune = 0;

  constructor(@Inject(DataSource) private readonly ds: DataSource, private readonly clock: Clock) {}

  on(kind: ChangeKind, fn: Listener): void {
    const list = this.listeners.get(kind) ?? [];
    list.push(fn);
    this.listeners.set(kind, list);
  }

  /** Records a change inside the caller's transaction and applies it locally at once. */
  async publish(manager: EntityManager, kind: ChangeKind, ref: string): Promise<void> {
    await manager.insert(ChangeEventEntity, { kind, ref, at: this.clock.nowMs() });
    this.emit(kind, ref);
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
      const rows = await this.ds.getRepository(ChangeEventEntity).find({ where: { seq: MoreThan(Math.max(0, this.last - OVERLAP)) }, order: { seq: 'ASC' }, take: 5000 });
      for (const r of rows) {
        if (this.seen.has(r.seq)) continue;
        this.seen.add(r.seq);
        this.emit(r.kind as ChangeKind, r.ref);
        if (r.seq > this.last) this.last = r.seq;
      }
      for (const s of this.seen) if (s <= this.last - OVERLAP) this.seen.delete(s);
      const now = this.clock.nowMs();
      if (now - this.lastPrune > 60_000) {
        this.lastPrune = now;
        await this.ds.createQueryBuilder().delete().from(ChangeEventEntity).where('at < :cut', { cut: now - RETAIN_MS }).execute();
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

import { Inject, Injectable, OnModuleDestroy } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { Clock } from '../common/clock';
import { Log } from '../common/logger';
import { CredentialEntity } from './credential.entity';

/** LastUsedAt is kept to within this many seconds. */
export const LAST_USED_RESOLUTION_SECONDS = 60;
const FLUSH_MS = 1000;
const REMEMBERED = 100_000;

/**
 * Records when each credential was last used without a database write per request: a
 * process writes a credential's LastUsedAt at most once a minute, batched a second later in
 * the background (the request never waits for it), and the UPDATE moves it only forward by
 * a minute or more, so all processes together change a row about once a minute at most.
 */
@Injectable()
export class CredentialUsage implements OnModuleDestroy {
  /** SecretId -> the time this process last wrote for it. */
  private readonly written = new Map<string, number>();
  private readonly pending = new Map<string, number>();
  private timer: NodeJS.Timeout | null = null;

  constructor(@Inject(DataSource) private readonly ds: DataSource, private readonly clock: Clock) {}

  /** A request signed with this credential passed authentication. */
  note(secretId: string): void {
    const now = this.clock.nowSeconds();
    const last = this.written.get(secretId);
    if (last !== undefined && now - last < LAST_USED_RESOLUTION_SECONDS) return;
    // Forgetting only costs a conditional UPDATE that changes nothing.
    if (this.written.size >= REMEMBERED) this.written.clear();
    this.written.set(secretId, now);
    this.pending.set(secretId, now);
    if (!this.timer) {
      this.timer = setTimeout(() => void this.flush(), FLUSH_MS);
      this.timer.unref();
    }
  }

  async flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const batch = [...this.pending];
    this.pending.clear();
    for (const [secretId, at] of batch) {
      try {
        await this.ds.transaction((m) =>
          m
            .createQueryBuilder()
            .update(CredentialEntity)
            .set({ lastUsedAt: at })
            .where('secret_id = :secretId AND (last_used_at IS NULL OR last_used_at <= :before)', { secretId, before: at - LAST_USED_RESOLUTION_SECONDS })
            .execute(),
        );
      } catch (e) {
        Log.warn('could not record when a credential was last used', { secretId, error: (e as Error).message });
      }
    }
  }

  /** Runs before the database closes (that is done on application shutdown). */
  async onModuleDestroy(): Promise<void> {
    if (this.pending.size > 0 && this.ds.isInitialized) await this.flush();
  }
}

import { Inject, Injectable, OnModuleDestroy } from '@nestjs/common';
import { DataSource, LessThan } from 'typeorm';
import { Clock } from '../../common/clock';
import { V1NonceEntity } from './v1-nonce.entity';

export const REPLAY_WINDOW_SECONDS = 300;

/**
 * Remembers v1 (SecretId, Timestamp, Nonce) triples for the replay window in the shared
 * database, so a replay is refused by every worker and instance. The seed pairs Nonce with
 * Timestamp against replay; the official SDKs draw Nonce from only 65536 values, so keying
 * on the nonce alone would refuse honest requests.
 */
@Injectable()
export class NonceStore implements OnModuleDestroy {
  private timer: NodeJS.Timeout;

  constructor(@Inject(DataSource) private readonly ds: DataSource, private readonly clock: Clock) {
    this.timer = setInterval(() => void this.prune(), 60_000);
    this.timer.unref();
  }

  onModuleDestroy(): void {
    clearInterval(this.timer);
  }

  /** True the first time a triple is seen, false for a replay. */
  async claim(secretId: string, timestamp: number, nonce: string): Promise<boolean> {
    try {
      // A transaction of its own, so that it cannot be rolled back with another flow's.
      await this.ds.transaction((m) => m.insert(V1NonceEntity, { secretId, nonce: `${timestamp}:${nonce}`, at: timestamp }));
      return true;
    } catch (e) {
      if (/unique|duplicate|constraint/i.test((e as Error).message)) return false;
      throw e;
    }
  }

  private async prune(): Promise<void> {
    if (!this.ds.isInitialized) return;
    await this.ds
      .getRepository(V1NonceEntity)
      .delete({ at: LessThan(this.clock.wallSeconds() - 2 * REPLAY_WINDOW_SECONDS) })
      .catch(() => undefined);
  }
}

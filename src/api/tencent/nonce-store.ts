import { Inject, Injectable, OnModuleDestroy } from '@nestjs/common';
import { hash } from 'node:crypto';
import { DataSource, LessThan } from 'typeorm';
import { Clock } from '../../common/clock';
import { V1NonceEntity } from './v1-nonce.entity';

export const REPLAY_WINDOW_SECONDS = 300;

/**
 * Remembers v1-signed requests for the replay window in the shared database, so a replay is
 * refused by every worker and instance. A request is known by its SecretId, Timestamp, Nonce
 * and signature: the seed pairs Nonce with Timestamp against replay, but the official SDKs
 * draw Nonce from only 65536 values, so two honest requests in one second share a nonce often
 * enough (about once a second at 400 requests a second) to refuse them if the signature, which
 * differs for any other request, were left out. A replay is the same request, signature and all.
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

  /** True the first time a request is seen, false for a replay. */
  async claim(secretId: string, timestamp: number, nonce: string, signature: Buffer): Promise<boolean> {
    try {
      // A transaction of its own, so that it cannot be rolled back with another flow's.
      await this.ds.transaction((m) => m.insert(V1NonceEntity, { secretId, nonce: requestKey(timestamp, nonce, signature), at: timestamp }));
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

/** 32 characters, the column's width: 192 bits of SHA-256 over the request's identity. */
export function requestKey(timestamp: number, nonce: string, signature: Buffer): string {
  return hash('sha256', Buffer.concat([Buffer.from(`${timestamp}:${nonce}:`), signature]), 'base64url').slice(0, 32);
}

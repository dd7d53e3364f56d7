import { Injectable } from '@nestjs/common';
import { ChangeFeed } from '../persistence/change-feed';
import { KeyRecord } from './key-record';
import { KeyRepository } from './key.repository';

/**
 * CMK records by KeyId, filled on first use and dropped when the change feed reports a
 * change from any process. Misses are cached too (a KeyId that does not exist stays
 * absent until a key with that id is created), bounded so random ids cannot fill memory.
 */
@Injectable()
export class KeyCache {
  private readonly map = new Map<string, KeyRecord | null>();
  private readonly loading = new Map<string, Promise<KeyRecord | null>>();
  private epoch = 0;

  constructor(private readonly repo: KeyRepository, feed: ChangeFeed) {
    // A load already under way may have read the row before the change: later callers must
    // not join it, and it must not fill the cache.
    feed.on('key', (id) => {
      this.epoch++;
      this.map.delete(id);
      this.loading.delete(id);
    });
  }

  get(keyId: string): KeyRecord | null | Promise<KeyRecord | null> {
    const hit = this.map.get(keyId);
    if (hit !== undefined) return hit;
    let p = this.loading.get(keyId);
    if (!p) {
      const epoch = this.epoch;
      p = this.repo.load(keyId).then((rec) => {
        if (epoch === this.epoch && (rec || this.map.size < 100_000)) this.map.set(keyId, rec);
        return rec;
      });
      const loaded = p;
      loaded.finally(() => this.loading.get(keyId) === loaded && this.loading.delete(keyId)).catch(() => undefined);
      this.loading.set(keyId, loaded);
    }
    return p;
  }
}

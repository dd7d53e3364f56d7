import { Inject, Injectable } from '@nestjs/common';
import { KeyStore } from '../hsm/key-store';
import { ChangeFeed } from '../persistence/change-feed';
import { InvalidatedCache } from '../persistence/invalidated-cache';
import { KeyRecord } from './key-record';
import { KeyRepository } from './key.repository';

/** Keys a process keeps in memory: a record is small (the row and its versions' handles). */
const KEY_CACHE_ENTRIES = 100_000;

/**
 * CMK records by KeyId, for the request path: dropped when the change feed reports a change to
 * the key from any process, and with them what the key store keeps of the key's material
 * (session objects of wrapped material: a deletion anywhere destroys them here too).
 */
@Injectable()
export class KeyCache extends InvalidatedCache<KeyRecord> {
  constructor(repo: KeyRepository, feed: ChangeFeed, @Inject(KeyStore) store: KeyStore) {
    super((keyId) => repo.load(keyId), KEY_CACHE_ENTRIES);
    this.dropOn(feed, 'key');
    feed.on('key', (keyId) => store.forgetKey(keyId));
  }
}

import { ChangeFeed } from '../persistence/change-feed';
import { InvalidatedCache } from '../persistence/invalidated-cache';
import type { CachedCredential } from './accounts.service';

/**
 * The credentials by SecretId, each dropped when the feed reports a change to it, to the
 * sub-user it belongs to (policy change, deletion) or to its account (status). Dropping only
 * what a change concerns matters: a reload unseals the SecretKey in the token again.
 */
export function credentialCache(load: (secretId: string) => Promise<CachedCredential | null>, feed: ChangeFeed, capacity: number): InvalidatedCache<CachedCredential> {
  const cache = new InvalidatedCache<CachedCredential>(load, capacity);
  cache.dropOn(feed, 'credential');
  cache.dropOn(feed, 'user', (subUin, c) => c?.subUin === subUin);
  cache.dropOn(feed, 'account', (uin, c) => c?.uin === uin);
  return cache;
}

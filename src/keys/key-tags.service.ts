import { Injectable } from '@nestjs/common';
import { accountResource, authorize } from '../accounts/policy';
import { Principal } from '../accounts/principal';
import { InvalidParameterError, KeyNotFoundError, TagLimitError } from '../common/domain-errors';
import { ChangeFeed } from '../persistence/change-feed';
import { MAX_TAGS, Tag, checkSearchText, checkTagKey, checkTagValue, checkTags } from './key-params';
import { KeyTagRepository, TagRef } from './key-tag.repository';
import { KeyEntity } from './key.entity';
import { KeyRepository, TagFilter } from './key.repository';
import { KeysService } from './keys.service';

export interface TagChange {
  /** Tags to add, or whose value to replace. */
  put?: Tag[];
  /** Tags to remove (after nothing else happened); absent ones are no error. */
  remove?: TagRef[];
  /** The face's own limit of tags per key, below the core's MAX_TAGS. */
  maxTags?: number;
}

export interface TagQuery {
  /** A key must have a tag of each filter's key, with one of its values (any value when none are given). */
  tags: TagFilter[];
  /** A substring of the alias, case-insensitive. */
  aliasContains?: string;
  offset: number;
  limit: number;
}

/** The core's bounds on a query, whatever the face allows. */
export const MAX_TAG_FILTERS = 50;
export const MAX_TAG_FILTER_VALUES = 100;
export const MAX_TAGGED_PAGE = 1000;
export const MAX_MATCH_CHARS = 255;

/**
 * Tags of CMKs: set, removed and listed per key, listed per account and region, and used to
 * find keys. A key's tags are changed under its row lock, so a per-key limit holds under
 * concurrent calls; every change reaches the change feed as a change of the key.
 */
@Injectable()
export class KeyTagsService {
  constructor(
    private readonly keys: KeysService,
    private readonly keyRepo: KeyRepository,
    private readonly repo: KeyTagRepository,
    private readonly feed: ChangeFeed,
  ) {}

  async tagsOf(p: Principal, keyId: string): Promise<Tag[]> {
    await this.keys.get(p, keyId);
    return (await this.repo.tagsOf([keyId])).get(keyId)!;
  }

  async change(p: Principal, keyId: string, c: TagChange): Promise<void> {
    const put = c.put ?? [];
    const remove = c.remove ?? [];
    const max = Math.min(c.maxTags ?? MAX_TAGS, MAX_TAGS);
    await this.keys.get(p, keyId);
    checkTags(put);
    for (const r of remove) {
      checkTagKey(r.key);
      if (r.value !== undefined) checkTagValue(r.value);
    }
    if (!put.length && !remove.length) return;
    await this.keyRepo.transaction(async (m) => {
      if (!(await this.repo.lockKey(m, keyId))) throw new KeyNotFoundError(keyId);
      const count = await this.repo.change(m, keyId, put, remove);
      if (count > max) throw new TagLimitError(`a CMK carries at most ${max} tags; this change would leave ${count}`);
      await this.feed.publish(m, 'key', keyId);
    });
  }

  /** Every tag key of the caller's keys in its region, with its distinct values. */
  accountTags(p: Principal): Promise<Array<{ key: string; values: string[] }>> {
    authorize(p, accountResource(p.region, p.uin));
    return this.repo.accountTags(p.uin, p.region);
  }

  /** One page of the caller's keys that match, oldest first, each with its tags, and the total. */
  async find(p: Principal, q: TagQuery): Promise<{ rows: Array<{ key: KeyEntity; tags: Tag[] }>; total: number }> {
    authorize(p, accountResource(p.region, p.uin));
    checkQuery(q);
    const page = await this.keyRepo.detailPage(this.filter(p, q));
    const tags = await this.repo.tagsOf(page.rows.map((k) => k.keyId));
    return { rows: page.rows.map((key) => ({ key, tags: tags.get(key.keyId)! })), total: page.total };
  }

  async count(p: Principal, q: Omit<TagQuery, 'offset' | 'limit'>): Promise<number> {
    authorize(p, accountResource(p.region, p.uin));
    checkQuery({ ...q, offset: 0, limit: 1 });
    return this.keyRepo.detailCount(this.filter(p, { ...q, offset: 0, limit: 1 }));
  }

  private filter(p: Principal, q: TagQuery) {
    return { uin: p.uin, region: p.region, offset: q.offset, limit: q.limit, newestFirst: false, tags: q.tags, aliasContains: q.aliasContains };
  }
}

function checkQuery(q: TagQuery): void {
  if (!Number.isInteger(q.offset) || q.offset < 0) throw new InvalidParameterError('offset', 'offset is a whole number from 0');
  if (!Number.isInteger(q.limit) || q.limit < 1 || q.limit > MAX_TAGGED_PAGE) throw new InvalidParameterError('limit', `limit is 1 to ${MAX_TAGGED_PAGE}`);
  if (q.tags.length > MAX_TAG_FILTERS) throw new InvalidParameterError('tags', `at most ${MAX_TAG_FILTERS} tag filters`);
  for (const t of q.tags) {
    checkTagKey(t.key);
    if ((t.values?.length ?? 0) > MAX_TAG_FILTER_VALUES) throw new InvalidParameterError('tags', `at most ${MAX_TAG_FILTER_VALUES} values per tag filter`);
  }
  if (q.aliasContains !== undefined && q.aliasContains.length > MAX_MATCH_CHARS) throw new InvalidParameterError('matches', `a match is at most ${MAX_MATCH_CHARS} characters`);
  checkSearchText('matches', q.tags, q.aliasContains);
}

import 'reflect-metadata';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DataSource } from 'typeorm';
import { Log } from '../../src/common/logger';
import { ChangeFeed, STALE_MS } from '../../src/persistence/change-feed';
import { openDatabase } from '../../src/persistence/data-source';
import { InvalidatedCache } from '../../src/persistence/invalidated-cache';

/**
 * A process that cannot poll the change feed may be missing a revocation made elsewhere: past
 * STALE_MS its caches empty and stop filling until a poll succeeds again (fail closed).
 * Over a real SQLite database whose change table is taken away and put back; the clock is faked.
 */
let ds: DataSource;
let feed: ChangeFeed;
let now = Date.now();
/** What the feed tells the operator, by level (kept here rather than written to stderr). */
const logged: Array<[string, string]> = [];
beforeAll(async () => {
  ds = await openDatabase({ dataDir: fs.mkdtempSync(path.join(os.tmpdir(), 'kms-stale-')) }, true);
  feed = new ChangeFeed(ds, { changeFeedPage: 10 });
  jest.spyOn(Date, 'now').mockImplementation(() => now);
  for (const level of ['info', 'warn', 'error'] as const) jest.spyOn(Log, level).mockImplementation((msg: string, _fields?: Record<string, unknown>) => { logged.push([level, msg]); });
  await feed.poll();
});
afterAll(async () => {
  jest.restoreAllMocks();
  await ds.destroy();
});

it('empties and bypasses its caches while it cannot poll, and fills them again once it can', async () => {
  let loads = 0;
  const cache = new InvalidatedCache<string>(async (id) => `${id}#${++loads}`, 100);
  cache.dropOn(feed, 'credential');
  expect(await cache.get('a')).toBe('a#1');
  expect(cache.get('a')).toBe('a#1'); // a hit: no load

  await ds.query('ALTER TABLE change_events RENAME TO change_events_away');
  now += STALE_MS - 1000;
  await feed.poll();
  expect(feed.fresh).toBe(true); // failing, but not for long enough yet
  expect(cache.get('a')).toBe('a#1');
  expect(logged).toEqual([['warn', 'change feed poll failed']]);

  now += 2000;
  await feed.poll();
  expect(feed.fresh).toBe(false);
  expect(logged.slice(1)).toEqual([
    ['warn', 'change feed poll failed'],
    ['error', 'change feed stale: caches emptied and bypassed until it polls again'],
  ]);
  // Every read loads, and nothing is kept.
  expect(await cache.get('a')).toBe('a#2');
  expect(await cache.get('a')).toBe('a#3');

  await ds.query('ALTER TABLE change_events_away RENAME TO change_events');
  await feed.poll();
  expect(feed.fresh).toBe(true);
  expect(logged.at(-1)).toEqual(['info', 'change feed polled again; caches fill again']);
  expect(await cache.get('a')).toBe('a#4');
  expect(cache.get('a')).toBe('a#4');
});

import 'reflect-metadata';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DataSource } from 'typeorm';
import { ChangeFeed } from '../../src/persistence/change-feed';
import { openDatabase } from '../../src/persistence/data-source';
import { InvalidatedCache } from '../../src/persistence/invalidated-cache';

/** The one cache the change feed invalidates, over a real SQLite database and feed. */
let ds: DataSource;
let feed: ChangeFeed;
beforeAll(async () => {
  ds = await openDatabase({ dataDir: fs.mkdtempSync(path.join(os.tmpdir(), 'kms-cache-')) }, true);
  feed = new ChangeFeed(ds);
});
afterAll(() => ds.destroy());

interface Row {
  id: string;
  owner: string;
}

/** A cache over `rows`, counting loads; ids missing from `rows` are misses. */
function cacheOf(rows: Map<string, Row>, capacity = 10) {
  const loads: string[] = [];
  const cache = new InvalidatedCache<Row>(async (id) => {
    loads.push(id);
    await new Promise((r) => setImmediate(r));
    return rows.get(id) ?? null;
  }, capacity);
  return { cache, loads };
}

const publish = (kind: 'key' | 'account', ref: string) => ds.transaction((m) => feed.publish(m, kind, ref));

it('answers a hit with the value itself, and shares one load among concurrent misses', async () => {
  const { cache, loads } = cacheOf(new Map([['a', { id: 'a', owner: 'x' }]]));
  const [one, two] = await Promise.all([cache.get('a'), cache.get('a')]);
  expect(one).toBe(two);
  expect(cache.get('a')).toEqual({ id: 'a', owner: 'x' });
  expect(loads).toEqual(['a']);
});

it('drops the entry a change-feed event names, and a load under way does not fill the cache', async () => {
  const rows = new Map([['k', { id: 'k', owner: 'x' }]]);
  const { cache, loads } = cacheOf(rows);
  cache.dropOn(feed, 'key');
  const straddling = cache.get('k');
  rows.set('k', { id: 'k', owner: 'y' });
  await publish('key', 'k');
  await straddling;
  // The load that straddled the change left nothing behind: the next call reads again.
  expect(await cache.get('k')).toEqual({ id: 'k', owner: 'y' });
  expect(cache.get('k')).toEqual({ id: 'k', owner: 'y' });
  expect(loads).toEqual(['k', 'k']);
});

it('fills the cache from a load under way when another id changes meanwhile', async () => {
  const rows = new Map([
    ['a', { id: 'a', owner: 'x' }],
    ['b', { id: 'b', owner: 'x' }],
  ]);
  const { cache, loads } = cacheOf(rows);
  cache.dropOn(feed, 'key');
  const loading = cache.get('a');
  // Writes to other keys, from any tenant, say nothing about what the load of `a` read.
  await publish('key', 'b');
  expect(await loading).toEqual({ id: 'a', owner: 'x' });
  expect(cache.get('a')).toEqual({ id: 'a', owner: 'x' });
  expect(loads).toEqual(['a']);
});

it('does not fill the cache from a load that straddled a change matching by value', async () => {
  const rows = new Map([['a', { id: 'a', owner: 'x' }]]);
  const { cache, loads } = cacheOf(rows);
  cache.dropOn(feed, 'account', (ref, v) => v?.owner === ref);
  const loading = cache.get('a');
  await publish('account', 'x');
  await loading;
  await cache.get('a');
  expect(loads).toEqual(['a', 'a']);
});

it('drops every entry a matching event concerns, and keeps the others', async () => {
  const rows = new Map([
    ['a', { id: 'a', owner: 'u1' }],
    ['b', { id: 'b', owner: 'u2' }],
  ]);
  const { cache, loads } = cacheOf(rows);
  cache.dropOn(feed, 'account', (owner, r) => r?.owner === owner);
  await cache.get('a');
  await cache.get('b');
  await publish('account', 'u1');
  expect(cache.get('b')).toEqual({ id: 'b', owner: 'u2' });
  await cache.get('a');
  expect(loads).toEqual(['a', 'b', 'a']);
});

it('caches misses only while it has room, so unknown ids push no entry out', async () => {
  const rows = new Map([['real', { id: 'real', owner: 'x' }]]);
  const { cache, loads } = cacheOf(rows, 3);
  await cache.get('real');
  for (const id of ['m1', 'm2', 'm3', 'm4']) await cache.get(id);
  expect(cache.get('real')).toEqual({ id: 'real', owner: 'x' });
  expect(cache.get('m1')).toBeNull();
  expect(cache.get('m2')).toBeNull();
  // m3 and m4 found it full: each call loads them again.
  await cache.get('m3');
  expect(loads.filter((id) => id === 'm3')).toHaveLength(2);
});

it('evicts, when full, the oldest entry not read since the sweep passed it', async () => {
  const rows = new Map(['a', 'b', 'c', 'd'].map((id) => [id, { id, owner: 'x' }]));
  const { cache, loads } = cacheOf(rows, 3);
  for (const id of ['a', 'b', 'c']) await cache.get(id);
  cache.get('a');
  await cache.get('d');
  // `a` was read, so `b`, the oldest unread, went.
  expect(cache.get('a')).not.toBeInstanceOf(Promise);
  expect(cache.get('c')).not.toBeInstanceOf(Promise);
  expect(cache.get('d')).not.toBeInstanceOf(Promise);
  expect(cache.get('b')).toBeInstanceOf(Promise);
  expect(loads).toEqual(['a', 'b', 'c', 'd', 'b']);
});

import 'reflect-metadata';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DataSource } from 'typeorm';
import type { CachedCredential } from '../../src/accounts/accounts.service';
import { credentialCache } from '../../src/accounts/credential-cache';
import { ChangeFeed } from '../../src/persistence/change-feed';
import { openDatabase } from '../../src/persistence/data-source';

/** Which cached credentials each change-feed event drops, over a real SQLite database and feed. */
let ds: DataSource;
let feed: ChangeFeed;
beforeAll(async () => {
  ds = await openDatabase({ dataDir: fs.mkdtempSync(path.join(os.tmpdir(), 'kms-credcache-')) }, true);
  feed = new ChangeFeed(ds);
});
afterAll(() => ds.destroy());

const credential = (secretId: string, uin: string, subUin: string | null): CachedCredential => ({
  secretId,
  kind: 'key',
  uin,
  subUin,
  secretKey: 'k',
  secretDigest: Buffer.alloc(0),
  expiresAt: null,
  active: true,
  derivedKeys: new Map(),
});

it('drops on a sub-user policy change only that sub-user credentials, and on an account change only its own', async () => {
  const rows = new Map([
    ['AKID-owner-1', credential('AKID-owner-1', '1', null)],
    ['AKID-user-1a', credential('AKID-user-1a', '1', '11')],
    ['AKID-user-1b', credential('AKID-user-1b', '1', '12')],
    ['AKID-owner-2', credential('AKID-owner-2', '2', null)],
  ]);
  const loads: string[] = [];
  const cache = credentialCache(async (id) => (loads.push(id), rows.get(id) ?? null), feed, 100);
  for (const id of rows.keys()) await cache.get(id);
  loads.length = 0;

  await ds.transaction((m) => feed.publish(m, 'user', '11'));
  for (const id of rows.keys()) await cache.get(id);
  expect(loads).toEqual(['AKID-user-1a']);

  loads.length = 0;
  await ds.transaction((m) => feed.publish(m, 'account', '1'));
  for (const id of rows.keys()) await cache.get(id);
  expect(loads).toEqual(['AKID-owner-1', 'AKID-user-1a', 'AKID-user-1b']);
});

import 'reflect-metadata';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DataSource } from 'typeorm';
import { ChangeEventEntity } from '../../src/persistence/change-event.entity';
import { ChangeFeed } from '../../src/persistence/change-feed';
import { openDatabase } from '../../src/persistence/data-source';

/** The change feed's poll over a real SQLite database, with a page of 10 events. */
let ds: DataSource;
let feed: ChangeFeed;
const applied: string[] = [];
beforeAll(async () => {
  ds = await openDatabase({ dataDir: fs.mkdtempSync(path.join(os.tmpdir(), 'kms-feed-')) }, true);
  feed = new ChangeFeed(ds, { changeFeedPage: 10 });
  feed.on('key', (ref) => applied.push(ref));
  await feed.start();
  feed.onModuleDestroy();
});
afterAll(() => ds.destroy());

const write = (seq: number, ref: string) => ds.getRepository(ChangeEventEntity).insert({ seq, kind: 'key', ref, at: Date.now() });

it('applies every event of a burst many pages long in one poll', async () => {
  applied.length = 0;
  for (let i = 1; i <= 35; i++) await write(i, `burst-${i}`);
  await feed.poll();
  expect(applied).toEqual(Array.from({ length: 35 }, (_, i) => `burst-${i + 1}`));
  await feed.poll();
  expect(applied).toHaveLength(35);
});

it('applies an event whose number was taken before others but committed after them, once', async () => {
  applied.length = 0;
  await write(38, 'later');
  await feed.poll();
  // 36 and 37 commit late: the feed has already applied 38.
  await write(37, 'late-1');
  await write(36, 'late-2');
  await feed.poll();
  await feed.poll();
  expect(applied).toEqual(['later', 'late-2', 'late-1']);
});

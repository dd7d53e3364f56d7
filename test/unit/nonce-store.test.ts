import 'reflect-metadata';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DataSource } from 'typeorm';
import { NonceStore, REPLAY_WINDOW_SECONDS } from '../../src/api/tencent/nonce-store';
import { TENCENT_FACE } from '../../src/api/tencent/tencent.face';
import { V1NonceEntity } from '../../src/api/tencent/v1-nonce.entity';
import { Clock } from '../../src/common/clock';
import { openDatabase } from '../../src/persistence/data-source';

/**
 * The v1 replay memory on a real SQLite database, with the clock faked: a request is taken
 * once, and what is older than two replay windows is dropped every minute, so the table does
 * not grow with the traffic.
 */

let ds: DataSource;
beforeEach(async () => {
  ds = await openDatabase({ dataDir: fs.mkdtempSync(path.join(os.tmpdir(), 'kms-nonces-')) }, true, [TENCENT_FACE]);
  // Timers and Date only: the database's promises keep running.
  jest.useFakeTimers({ doNotFake: ['nextTick', 'queueMicrotask', 'setImmediate'] });
});
afterEach(async () => {
  jest.useRealTimers();
  if (ds.isInitialized) await ds.destroy();
});

const sig = (n: number) => Buffer.alloc(32, n);
const rows = () => ds.getRepository(V1NonceEntity).count();

it('takes a request once: the same Timestamp, Nonce and signature again is a replay, another signature is not', async () => {
  const store = new NonceStore(ds, new Clock());
  const now = Math.floor(Date.now() / 1000);
  expect(await store.claim('AKID1', now, '42', sig(1))).toBe(true);
  expect(await store.claim('AKID1', now, '42', sig(1))).toBe(false);
  expect(await store.claim('AKID1', now, '42', sig(2))).toBe(true);
  expect(await store.claim('AKID2', now, '42', sig(1))).toBe(true);
  store.onModuleDestroy();
});

it('drops every minute what is older than two replay windows, and keeps the rest', async () => {
  const store = new NonceStore(ds, new Clock());
  const now = Math.floor(Date.now() / 1000);
  await store.claim('AKID1', now - 2 * REPLAY_WINDOW_SECONDS - 10, '1', sig(1));
  await store.claim('AKID1', now - REPLAY_WINDOW_SECONDS, '2', sig(2));
  await store.claim('AKID1', now, '3', sig(3));
  await jest.advanceTimersByTimeAsync(59_000);
  expect(await rows()).toBe(3);
  await jest.advanceTimersByTimeAsync(1_000);
  for (let i = 0; i < 50 && (await rows()) === 3; i++) await new Promise((r) => setImmediate(r));
  expect(await rows()).toBe(2);
  // The one dropped could be taken again (the authenticator refuses so old a Timestamp first).
  expect(await store.claim('AKID1', now - 2 * REPLAY_WINDOW_SECONDS - 10, '1', sig(1))).toBe(true);
  expect(await store.claim('AKID1', now - REPLAY_WINDOW_SECONDS, '2', sig(2))).toBe(false);
  store.onModuleDestroy();
});

it('lets a database error through (the face answers retry-later), and skips the sweep once the database is closed', async () => {
  const store = new NonceStore(ds, new Clock());
  await ds.destroy();
  await expect(store.claim('AKID1', Math.floor(Date.now() / 1000), '1', sig(1))).rejects.toThrow();
  await expect(jest.advanceTimersByTimeAsync(60_000)).resolves.toBeUndefined();
  store.onModuleDestroy();
});

import { Log } from '../../src/common/logger';
import { ChannelPort } from '../../src/common/primary-channel';
import { ClusterRateStorage } from '../../src/quotas/rate-limit-storage';

/** A worker's rate counters when its cluster primary does not answer: counted in the worker, not let through. */

/** A primary that takes the questions and never answers (stopped, or starved). */
const silent: ChannelPort = { send: () => true, on: () => undefined };

let warned: string[];
beforeEach(() => {
  warned = [];
  jest.useFakeTimers();
  jest.spyOn(Log, 'warn').mockImplementation((msg: string) => void warned.push(msg));
});
afterEach(() => {
  jest.useRealTimers();
  jest.restoreAllMocks();
});

it('counts alone after a second without an answer: the limit holds in the worker, and it says so once', async () => {
  const storage = new ClusterRateStorage(silent);
  const hits = Array.from({ length: 5 }, () => storage.increment('acct:GetRegions', 1000, 3));
  await jest.advanceTimersByTimeAsync(1000);
  expect((await Promise.all(hits)).map((r) => r.isBlocked)).toEqual([false, false, false, true, true]);
  const later = storage.increment('acct:GetRegions', 1000, 3);
  await jest.advanceTimersByTimeAsync(1000);
  // A second later the window has moved on; the warning is not repeated within 10 s.
  expect((await later).isBlocked).toBe(false);
  expect(warned).toEqual(['the primary did not answer a rate-limit count; this worker counts alone meanwhile (it allows the full rate)']);
});

it('counts alone at once when the channel to the primary is closed', async () => {
  const closed: ChannelPort = { send: () => { throw new Error('Channel closed'); }, on: () => undefined };
  const storage = new ClusterRateStorage(closed);
  const r = await Promise.all([1, 2, 3].map(() => storage.increment('acct:Decrypt', 1000, 2)));
  expect(r.map((x) => [x.isBlocked, x.totalHits])).toEqual([[false, 1], [false, 2], [true, 3]]);
  expect(warned).toHaveLength(1);
});

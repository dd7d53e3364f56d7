import { SlidingWindow } from '../../src/quotas/sliding-window';

/** The rate counters' rule, on a fake clock, past the point where old hits are compacted away. */
it('allows `limit` hits in any window, however many have slid out of it', () => {
  const w = new SlidingWindow();
  const T0 = 1_700_000_000_000;
  // 1,000 ms windows of 100 hits, for 10 windows: each allowed while within the limit, then refused.
  for (let win = 0; win < 10; win++) {
    for (let i = 0; i < 100; i++) expect(w.hit('k', 100, 1000, T0 + win * 1000 + i).allowed).toBe(true);
    const refused = w.hit('k', 100, 1000, T0 + win * 1000 + 500);
    expect(refused).toEqual({ allowed: false, count: 100, retryAfterMs: 500 });
  }
  // The last window's hits at or before t - 1000 (51 of its 100) slide out: 51 more pass.
  const t = T0 + 9 * 1000 + 1050;
  let passed = 0;
  for (let i = 0; i < 60; i++) if (w.hit('k', 100, 1000, t).allowed) passed++;
  expect(passed).toBe(51);
});

import { impossibleAcceptances, impossibleRefusals, timed } from './rate-window';

/**
 * Checks a burst sent to an action limited to `limit` calls a second: all answered, either
 * served (`served`) or refused (`refused`). Within one second exactly `limit` pass; a loaded
 * machine can take longer to get the burst through, and then each second lets at most `limit`
 * pass (the window slides), and nothing is refused before `limit` could have passed.
 */
export async function expectLimitedBurst(send: () => Promise<string>, size: number, limit: number, served: string, refused = 'RequestLimitExceeded'): Promise<void> {
  const started = Date.now();
  const calls = await Promise.all(Array.from({ length: size }, () => timed(send)));
  const spanMs = Date.now() - started;
  const count = (code: string) => calls.filter((c) => c.code === code).length;
  expect(count(served) + count(refused)).toBe(size);
  if (spanMs < 1000) expect([count(served), count(refused)]).toEqual([limit, size - limit]);
  else {
    expect(impossibleAcceptances(calls, limit, 1000, served)).toEqual([]);
    expect(impossibleRefusals(calls, limit, 1000, served, refused)).toEqual([]);
  }
}

import { SlidingWindow } from '../../src/quotas/sliding-window';
import { TimedCall, impossibleAcceptances, impossibleRefusals } from '../support/rate-window';

/**
 * The rate tests' checks (test/support/rate-window.ts), on the core's own sliding window: a
 * correct limiter passes them whatever the latencies and bursts; a closed one fails the lower
 * bound (impossibleRefusals), an open one the upper (impossibleAcceptances).
 */

const T0 = 1_700_000_000_000;

/** 40 calls a second for 5 s, each decided at a random point between sending and answering. */
function serve(allowedIn: (now: number, i: number) => boolean, latency: () => number): TimedCall[] {
  const calls = Array.from({ length: 200 }, (_, i) => {
    const sent = T0 + i * 25;
    const decided = sent + latency();
    return { i, sent, decided, answered: decided + latency() };
  });
  // The limiter sees them in the order they were decided.
  return [...calls].sort((x, y) => x.decided - y.decided).map((c) => ({ sent: c.sent, answered: c.answered, code: allowedIn(c.decided, c.i) ? 'OK' : 'RequestLimitExceeded' }));
}

/** Repeatable: a small linear congruential generator, not Math.random. */
let seed = 1;
const next = (): number => (seed = (seed * 48271) % 2147483647) / 2147483647;
const random = (max: number) => () => Math.floor(next() * max);

const latencies = { fast: random(3), slow: random(400), starved: () => (next() < 0.1 ? 1500 : 5) };

it.each(Object.keys(latencies))('finds nothing impossible in what a correct limiter answered (%s)', (name) => {
  const w = new SlidingWindow();
  const calls = serve((now) => w.hit('k', 20, 1000, now).allowed, latencies[name as keyof typeof latencies]);
  expect(calls.filter((c) => c.code === 'RequestLimitExceeded').length).toBeGreaterThan(0);
  expect(impossibleRefusals(calls, 20)).toEqual([]);
  expect(impossibleAcceptances(calls, 20)).toEqual([]);
});

it('finds the acceptances of two counters where one was due (two instances not sharing)', () => {
  const w = [new SlidingWindow(), new SlidingWindow()];
  const calls = serve((now, i) => w[i % 2].hit('k', 20, 1000, now).allowed, random(3));
  expect(impossibleRefusals(calls, 20)).toEqual([]);
  expect(impossibleAcceptances(calls, 20).length).toBeGreaterThan(50);
  // Between them the two counters hold to 40 a second.
  expect(impossibleAcceptances(calls, 40)).toEqual([]);
});

it('finds the refusals of a limiter that closes early', () => {
  // Counts each call twice: 10 a second pass where 20 should.
  const w = new SlidingWindow();
  const calls = serve((now) => w.hit('k', 20, 1000, now).allowed && w.hit('k', 20, 1000, now).allowed, random(3));
  expect(impossibleRefusals(calls, 20).length).toBeGreaterThan(50);
});

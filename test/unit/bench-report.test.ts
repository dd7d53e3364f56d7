import { HEADLINE, Row, median, verdicts } from '../../bench/lib/report';

/** The bench's targets compare medians of rounds (BENCH_ROUNDS), each server started afresh. */

const row = (target: string, connections: number, opsPerSec: number, p99Ms: number, round: number, problems: string[] = []): Row => ({ target, workload: HEADLINE, connections, opsPerSec, p50Ms: 1, p99Ms, requests: 1000, cpuUsPerOp: opsPerSec / 100, problems, round });

it('takes each figure as the median of the valid rounds, and lists them', () => {
  const rows = [row('service', 64, 8000, 30, 1), row('service', 64, 11000, 20, 2), row('service', 64, 12000, 10, 3), row('service', 64, 99999, 1, 4, ['socket errors']), row('service', 1, 5, 5, 1)];
  const m = median(rows, 'service', 64)!;
  expect(m.opsPerSec).toBe(11000);
  expect(m.p99Ms).toBe(20);
  expect(m.cpuUsPerOp).toBe(110);
  expect(m.rounds).toEqual([
    { opsPerSec: 8000, p99Ms: 30 },
    { opsPerSec: 11000, p99Ms: 20 },
    { opsPerSec: 12000, p99Ms: 10 },
  ]);
  expect(median([row('service', 64, 8000, 30, 1), row('service', 64, 10000, 10, 2)], 'service', 64)!.opsPerSec).toBe(9000);
  expect(median([row('service', 64, 8000, 30, 1, ['failed'])], 'service', 64)).toBeUndefined();
});

it('judges a target on the medians and shows every round', () => {
  const cluster = 'smallest server x2';
  const rows = [row('service', 64, 8000, 20, 1), row('service', 64, 11000, 20, 2), row('service', 64, 11500, 20, 3), row(cluster, 64, 10000, 20, 1), row(cluster, 64, 11000, 20, 2), row(cluster, 64, 10500, 20, 3)];
  const [at64] = verdicts(rows, { cluster }, {});
  expect(at64.holds).toBe(true);
  expect(at64.detail).toBe('11000 (rounds 8000, 11000, 11500) vs 10500 (rounds 10000, 11000, 10500) ops/s = 1.05x');
});

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

it('judges the key count in each storage mode on its own, and says which was not measured', () => {
  const keyRow = (target: string, n: number, opsPerSec: number): Row => ({ ...row(target, 64, opsPerSec, 10, 1), workload: `Encrypt 1 KiB, random of ${n} keys` });
  const token = { storage: 'token' as const, count: 1000, few: keyRow('service', 10, 10000), many: keyRow('service', 1000, 8900) };
  const wrapped = { storage: 'wrapped' as const, count: 10000, few: keyRow('service, wrapped storage', 10, 12000), many: keyRow('service, wrapped storage', 10000, 11500) };
  const byName = (keys: Parameters<typeof verdicts>[2]['keys']) => verdicts([], { cluster: 'c' }, { keys }).filter((v) => v.name.startsWith('Encrypt over'));
  const [t, w] = byName([token, wrapped]);
  expect(t).toMatchObject({ name: 'Encrypt over 1000 keys within 10 % of over 10 keys (64 connections, token storage)', holds: false, detail: '8900 vs 10000 ops/s = 0.89x' });
  expect(w).toMatchObject({ name: 'Encrypt over 10000 keys within 10 % of over 10 keys (64 connections, wrapped storage)', holds: true, detail: '11500 vs 12000 ops/s = 0.96x' });
  const [t2, w2] = byName([wrapped]);
  expect(t2).toMatchObject({ name: 'Encrypt over BENCH_KEYS keys within 10 % of over 10 keys (64 connections, token storage)', holds: null });
  expect(w2.holds).toBe(true);
});

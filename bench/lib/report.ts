import * as fs from 'node:fs';
import * as path from 'node:path';

/** One measured row of the table. */
export interface Row {
  target: 'raw loop' | 'constant server' | 'smallest server' | 'service' | 'service, audit off';
  /** null for the raw loop: it is one thread, whatever the connection count */
  connections: number | null;
  opsPerSec: number;
  p50Ms: number;
  p99Ms: number;
  requests: number;
  problems: string[];
}

export interface Ratio {
  connections: number;
  serviceOpsPerSec: number | null;
  vsSmallest: number | null;
  vsRaw: number | null;
  vsConstant: number | null;
  /** The service (audit trail on, the default) to the same service with KMS_AUDIT=off. */
  vsAuditOff: number | null;
}

export interface Verdict {
  name: string;
  holds: boolean | null;
  detail: string;
}

const find = (rows: Row[], target: Row['target'], c: number | null): Row | undefined => rows.find((r) => r.target === target && (r.connections === c || target === 'raw loop'));
const valid = (r: Row | undefined): Row | undefined => (r && r.problems.length === 0 ? r : undefined);
const div = (a: Row | undefined, b: Row | undefined): number | null => (a && b && b.opsPerSec > 0 ? a.opsPerSec / b.opsPerSec : null);

export function ratios(rows: Row[], connections: readonly number[]): Ratio[] {
  return connections.map((c) => {
    const s = valid(find(rows, 'service', c));
    return {
      connections: c,
      serviceOpsPerSec: s ? s.opsPerSec : null,
      vsSmallest: div(s, valid(find(rows, 'smallest server', c))),
      vsRaw: div(s, valid(find(rows, 'raw loop', null))),
      vsConstant: div(s, valid(find(rows, 'constant server', c))),
      vsAuditOff: div(s, valid(find(rows, 'service, audit off', c))),
    };
  });
}

export function verdicts(rows: Row[]): Verdict[] {
  const s64 = valid(find(rows, 'service', 64));
  const m64 = valid(find(rows, 'smallest server', 64));
  const s8 = valid(find(rows, 'service', 8));
  const off64 = valid(find(rows, 'service, audit off', 64));
  return [
    s64 && m64
      ? { name: 'service ops/s >= smallest server at 64 connections', holds: s64.opsPerSec >= m64.opsPerSec, detail: `${fmt(s64.opsPerSec, 0)} vs ${fmt(m64.opsPerSec, 0)} ops/s` }
      : { name: 'service ops/s >= smallest server at 64 connections', holds: null, detail: 'not measured (a run failed)' },
    s8
      ? { name: 'service p99 < 10 ms at 8 connections', holds: s8.p99Ms < 10, detail: `p99 ${fmt(s8.p99Ms, 2)} ms` }
      : { name: 'service p99 < 10 ms at 8 connections', holds: null, detail: 'not measured (a run failed)' },
    s64 && off64
      ? { name: 'audit on within 10 % of audit off at 64 connections', holds: s64.opsPerSec >= 0.9 * off64.opsPerSec, detail: `${fmt(s64.opsPerSec, 0)} vs ${fmt(off64.opsPerSec, 0)} ops/s (${((s64.opsPerSec / off64.opsPerSec) * 100).toFixed(0)} %)` }
      : { name: 'audit on within 10 % of audit off at 64 connections', holds: null, detail: 'not measured (a run failed)' },
  ];
}

const fmt = (v: number, digits: number): string => (Number.isFinite(v) ? v.toFixed(digits) : '-');
const ratioText = (v: number | null): string => (v === null ? 'n/a' : `${v.toFixed(2)}x`);

function table(head: string[], body: string[][]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((r) => r[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  return [line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(line)].join('\n');
}

export function render(rows: Row[], rs: Ratio[], vs: Verdict[]): string {
  const results = table(
    ['target', 'connections', 'ops/s', 'p50 ms', 'p99 ms', 'check'],
    rows.map((r) => [r.target, r.connections === null ? '(1 thread)' : String(r.connections), fmt(r.opsPerSec, 0), fmt(r.p50Ms, 3), fmt(r.p99Ms, 3), r.problems.length ? 'FAILED' : 'ok']),
  );
  const ratioTable = table(
    ['connections', 'service ops/s', 'service/smallest', 'service/raw loop', 'service/constant', 'audit on/off'],
    rs.map((r) => [String(r.connections), r.serviceOpsPerSec === null ? 'n/a' : fmt(r.serviceOpsPerSec, 0), ratioText(r.vsSmallest), ratioText(r.vsRaw), ratioText(r.vsConstant), ratioText(r.vsAuditOff)]),
  );
  const targets = vs.map((v) => `  [${v.holds === null ? '??' : v.holds ? 'ok' : 'NO'}] ${v.name}: ${v.detail}`).join('\n');
  const problems = rows.filter((r) => r.problems.length).map((r) => `  ${r.target} @ ${r.connections ?? '-'}: ${r.problems.join('; ')}`);
  return [results, '', ratioTable, '', 'targets:', targets, ...(problems.length ? ['', 'FAILED runs:', ...problems] : [])].join('\n');
}

export function writeJson(file: string, data: unknown): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, JSON.stringify(data, null, 2) + '\n');
}

import * as fs from 'node:fs';
import * as path from 'node:path';

/** The workload of the headline comparison. */
export const HEADLINE = 'Encrypt 1 KiB';

/** One measured row. */
export interface Row {
  /** 'raw loop', 'constant server', 'smallest server', 'smallest server xN', 'service', 'service, audit off', 'service, limits on', ... */
  target: string;
  /** What each request does: 'Encrypt 1 KiB', 'Decrypt', 'encrypt-data (Huawei)', 'Encrypt 1 KiB, 10 keys', ... */
  workload: string;
  /** null for the raw loop: it is one thread, whatever the connection count */
  connections: number | null;
  opsPerSec: number;
  p50Ms: number;
  p99Ms: number;
  requests: number;
  /** CPU time of the server's processes per request, microseconds (barely moved by other load on the machine) */
  cpuUsPerOp?: number;
  problems: string[];
  /** 1, or the round of the targets' repeated runs (BENCH_ROUNDS) */
  round?: number;
  /** in a median of rounds (`find`): each round's ops/s and p99, in order */
  rounds?: Array<{ opsPerSec: number; p99Ms: number }>;
}

export interface Ratio {
  connections: number;
  serviceOpsPerSec: number | null;
  /** to the smallest server with as many processes as the service has workers */
  vsSmallestCluster: number | null;
  p99VsSmallestCluster: number | null;
  /** server CPU time per request, service to the smallest server cluster */
  cpuVsSmallestCluster: number | null;
  /** to the one-process smallest server */
  vsSmallest: number | null;
  vsRaw: number | null;
  vsConstant: number | null;
  /** The service (audit trail on, the default) to the same service with KMS_AUDIT=off. */
  vsAuditOff: number | null;
  /** The service with rate limits on (the limit raised out of the way) to limits off. */
  limitsOnVsOff: number | null;
}

export interface Verdict {
  name: string;
  holds: boolean | null;
  detail: string;
}

export interface Names {
  /** 'smallest server xN' */
  cluster: string;
}

const matches = (r: Row, target: string, c: number | null, workload: string): boolean =>
  r.target === target && r.workload === (target === 'raw loop' ? HEADLINE : workload) && (r.connections === c || target === 'raw loop');

/** The row of round 1 (what the results table shows). */
export const find = (rows: Row[], target: string, c: number | null, workload = HEADLINE): Row | undefined => rows.find((r) => matches(r, target, c, workload));

/**
 * The target's row with the median ops/s, p99 and CPU per request of its rounds' valid runs
 * (medians taken each on its own), and every round's figures; undefined if none is valid.
 */
export function median(rows: Row[], target: string, c: number | null, workload = HEADLINE): Row | undefined {
  const all = rows.filter((r) => matches(r, target, c, workload) && r.problems.length === 0);
  if (all.length === 0) return undefined;
  const mid = (f: (r: Row) => number | undefined): number => {
    const v = all.map(f).filter((n): n is number => n !== undefined).sort((a, b) => a - b);
    return v.length === 0 ? NaN : v.length % 2 ? v[(v.length - 1) / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
  };
  const cpu = mid((r) => r.cpuUsPerOp);
  return { ...all[0], opsPerSec: mid((r) => r.opsPerSec), p50Ms: mid((r) => r.p50Ms), p99Ms: mid((r) => r.p99Ms), cpuUsPerOp: Number.isNaN(cpu) ? undefined : cpu, rounds: all.map((r) => ({ opsPerSec: r.opsPerSec, p99Ms: r.p99Ms })) };
}
const valid = (r: Row | undefined): Row | undefined => (r && r.problems.length === 0 ? r : undefined);
const div = (a: number | undefined, b: number | undefined): number | null => (a !== undefined && b !== undefined && b > 0 ? a / b : null);

export function ratios(rows: Row[], connections: readonly number[], n: Names): Ratio[] {
  return connections.map((c) => {
    const s = median(rows, 'service', c);
    const m = median(rows, n.cluster, c);
    return {
      connections: c,
      serviceOpsPerSec: s ? s.opsPerSec : null,
      vsSmallestCluster: div(s?.opsPerSec, m?.opsPerSec),
      p99VsSmallestCluster: div(s?.p99Ms, m?.p99Ms),
      cpuVsSmallestCluster: div(s?.cpuUsPerOp, m?.cpuUsPerOp),
      vsSmallest: div(s?.opsPerSec, median(rows, 'smallest server', c)?.opsPerSec),
      vsRaw: div(s?.opsPerSec, median(rows, 'raw loop', null)?.opsPerSec),
      vsConstant: div(s?.opsPerSec, median(rows, 'constant server', c)?.opsPerSec),
      vsAuditOff: div(s?.opsPerSec, median(rows, 'service, audit off', c)?.opsPerSec),
      limitsOnVsOff: div(median(rows, 'service, limits on', c)?.opsPerSec, s?.opsPerSec),
    };
  });
}

export interface MemoryFigures {
  requests: number;
  /** summed RSS of every service process, MiB: mean over the samples of the first and of the last 100k requests */
  firstMiB: number;
  lastMiB: number;
}

const fmt = (v: number, digits: number): string => (Number.isFinite(v) ? v.toFixed(digits) : '-');
const x = (v: number | null): string => (v === null ? 'n/a' : `${v.toFixed(2)}x`);
/** Each round's figure, when there were several: ` (rounds 11806, 11200, 12000)`. */
const each = (r: Row, f: (x: { opsPerSec: number; p99Ms: number }) => number, digits: number): string => (r.rounds && r.rounds.length > 1 ? ` (rounds ${r.rounds.map((x) => fmt(f(x), digits)).join(', ')})` : '');
const ops = (r: Row): string => `${fmt(r.opsPerSec, 0)}${each(r, (x) => x.opsPerSec, 0)}`;
const p99 = (r: Row): string => `${fmt(r.p99Ms, 2)}${each(r, (x) => x.p99Ms, 2)}`;
const unmeasured = (name: string): Verdict => ({ name, holds: null, detail: 'not measured (not run, or a run failed)' });

/** The targets, each with its figures and whether it holds. */
/** A key-count run: Encrypt over 10 and over `count` CMKs in one storage mode. */
export interface KeyRuns {
  storage: 'token' | 'wrapped';
  count: number;
  few?: Row;
  many?: Row;
}

export function verdicts(rows: Row[], n: Names, extra: { keys?: KeyRuns[]; memory?: MemoryFigures }): Verdict[] {
  const v: Verdict[] = [];
  for (const c of [64, 1]) {
    const s = median(rows, 'service', c);
    const m = median(rows, n.cluster, c);
    const name = `service ${HEADLINE} >= 0.9x ${n.cluster} at ${c} connection${c > 1 ? 's' : ''}`;
    v.push(s && m ? { name, holds: s.opsPerSec >= 0.9 * m.opsPerSec, detail: `${ops(s)} vs ${ops(m)} ops/s = ${x(s.opsPerSec / m.opsPerSec)}` } : unmeasured(name));
  }
  {
    const s = median(rows, 'service', 64);
    const m = median(rows, n.cluster, 64);
    const name = `service p99 <= 1.1x ${n.cluster} p99 at 64 connections`;
    v.push(s && m ? { name, holds: s.p99Ms <= 1.1 * m.p99Ms, detail: `${p99(s)} vs ${p99(m)} ms = ${x(s.p99Ms / m.p99Ms)}` } : unmeasured(name));
  }
  {
    const on = median(rows, 'service, limits on', 64);
    const off = median(rows, 'service', 64);
    const name = 'rate limits on (limit raised) >= 0.95x limits off at 64 connections';
    v.push(on && off ? { name, holds: on.opsPerSec >= 0.95 * off.opsPerSec, detail: `${ops(on)} vs ${ops(off)} ops/s = ${x(on.opsPerSec / off.opsPerSec)}` } : unmeasured(name));
  }
  {
    const on = median(rows, 'service', 64);
    const off = median(rows, 'service, audit off', 64);
    const name = 'audit on >= 0.9x audit off at 64 connections';
    v.push(on && off ? { name, holds: on.opsPerSec >= 0.9 * off.opsPerSec, detail: `${ops(on)} vs ${ops(off)} ops/s = ${x(on.opsPerSec / off.opsPerSec)}` } : unmeasured(name));
  }
  for (const storage of ['token', 'wrapped'] as const) {
    const k = extra.keys?.find((r) => r.storage === storage);
    const name = `Encrypt over ${k ? k.count : storage === 'token' ? 'BENCH_KEYS' : 'BENCH_WRAPPED_KEYS'} keys within 10 % of over 10 keys (64 connections, ${storage} storage)`;
    v.push(k?.few && k.many && valid(k.few) && valid(k.many) ? { name, holds: Math.abs(k.many.opsPerSec / k.few.opsPerSec - 1) <= 0.1, detail: `${ops(k.many)} vs ${ops(k.few)} ops/s = ${x(k.many.opsPerSec / k.few.opsPerSec)}` } : unmeasured(name));
  }
  {
    const m = extra.memory;
    const name = `RSS flat over ${m ? m.requests.toLocaleString('en-US') : '1,000,000'} requests (last 100k within 10 % of first 100k)`;
    v.push(m ? { name, holds: m.lastMiB <= 1.1 * m.firstMiB, detail: `${fmt(m.firstMiB, 1)} MiB -> ${fmt(m.lastMiB, 1)} MiB (${x(m.lastMiB / m.firstMiB)})` } : unmeasured(name));
  }
  return v;
}

function table(head: string[], body: string[][], markdown = false): string {
  if (markdown) {
    const row = (cells: string[]) => `| ${cells.join(' | ')} |`;
    return [row(head), row(head.map((_, i) => (i < 2 ? '---' : '---:'))), ...body.map(row)].join('\n');
  }
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((r) => r[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => (i < 2 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  return [line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(line)].join('\n');
}

export interface StreamFigures {
  raw?: { mbPerSec: number };
  service?: { mbPerSec: number };
}

/** The results as text (markdown: tables in GitHub form). */
export function render(rows: Row[], rs: Ratio[], vs: Verdict[], streams: StreamFigures, markdown = false, notes: string[] = []): string {
  const results = table(
    ['workload', 'target', 'conn.', 'ops/s', 'p50 ms', 'p99 ms', 'CPU us/op', 'check'],
    rows.filter((r) => (r.round ?? 1) === 1).map((r) => [r.workload, r.target, r.connections === null ? '(1 thread)' : String(r.connections), fmt(r.opsPerSec, 0), fmt(r.p50Ms, 3), fmt(r.p99Ms, 3), r.cpuUsPerOp === undefined ? '-' : fmt(r.cpuUsPerOp, 0), r.problems.length ? 'FAILED' : 'ok']),
    markdown,
  );
  const ratioTable = table(
    ['conn.', 'service', 'ops/s', 'vs cluster', 'p99 vs cluster', 'CPU/op vs cluster', 'vs 1 process', 'vs raw loop', 'vs constant', 'audit on/off', 'limits on/off'],
    rs.map((r) => [String(r.connections), HEADLINE, r.serviceOpsPerSec === null ? 'n/a' : fmt(r.serviceOpsPerSec, 0), x(r.vsSmallestCluster), x(r.p99VsSmallestCluster), x(r.cpuVsSmallestCluster), x(r.vsSmallest), x(r.vsRaw), x(r.vsConstant), x(r.vsAuditOff), x(r.limitsOnVsOff)]),
    markdown,
  );
  const mark = (h: boolean | null) => (h === null ? '??' : h ? 'ok' : 'NO');
  const targets = vs.map((v) => (markdown ? `- **${mark(v.holds)}** ${v.name}: ${v.detail}` : `  [${mark(v.holds)}] ${v.name}: ${v.detail}`)).join('\n');
  const stream = streams.raw || streams.service ? [`streamed AES-GCM (HUKS session vs raw multi-part loop): service ${streams.service ? fmt(streams.service.mbPerSec, 1) : 'n/a'} MB/s, raw ${streams.raw ? fmt(streams.raw.mbPerSec, 1) : 'n/a'} MB/s`] : [];
  const problems = rows.filter((r) => r.problems.length).map((r) => `  ${r.workload} / ${r.target} @ ${r.connections ?? '-'}: ${r.problems.join('; ')}`);
  const lines = [...stream, ...notes];
  return [results, '', ratioTable, '', ...lines, ...(lines.length ? [''] : []), 'targets:', '', targets, ...(problems.length ? ['', 'FAILED runs:', ...problems] : [])].join('\n');
}

export function writeFile(file: string, data: string): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, data);
}

export function writeJson(file: string, data: unknown): void {
  writeFile(file, JSON.stringify(data, null, 2) + '\n');
}

const START = '<!-- bench:latest:start -->';
const END = '<!-- bench:latest:end -->';

/** Replaces what stands between the markers in README.md with `text`; false when the markers are missing. */
export function updateReadme(file: string, text: string): boolean {
  const s = fs.readFileSync(file, 'utf8');
  const a = s.indexOf(START);
  const b = s.indexOf(END);
  if (a < 0 || b < a) return false;
  fs.writeFileSync(file, `${s.slice(0, a + START.length)}\n${text}\n${s.slice(b)}`);
  return true;
}

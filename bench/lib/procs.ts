import * as fs from 'node:fs';

/**
 * The processes of a server under test (its root process and every descendant: the service's
 * primary and workers, a cluster's workers), read from /proc: RSS, and CPU time, which unlike
 * ops/s barely depends on what else the machine runs.
 */

interface Stat {
  pid: number;
  ppid: number;
  /** user + system CPU time, clock ticks */
  ticks: number;
}

const TICKS_PER_SECOND = 100;

function readStat(pid: string): Stat | null {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // pid (comm) state ppid ...: comm may hold spaces, so read after its closing parenthesis.
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { pid: Number(pid), ppid: Number(f[1]), ticks: Number(f[11]) + Number(f[12]) };
  } catch {
    return null;
  }
}

/** `root` and its descendants. */
export function processTree(root: number): Stat[] {
  const all = fs.readdirSync('/proc').filter((n) => /^\d+$/.test(n)).map(readStat).filter((s): s is Stat => s !== null);
  const children = new Map<number, Stat[]>();
  for (const s of all) children.set(s.ppid, [...(children.get(s.ppid) ?? []), s]);
  const out: Stat[] = [];
  const self = all.find((s) => s.pid === root);
  const todo = self ? [self] : [];
  while (todo.length) {
    const s = todo.pop()!;
    out.push(s);
    todo.push(...(children.get(s.pid) ?? []));
  }
  return out;
}

/** CPU seconds the tree has used so far (exited descendants excepted). */
export function treeCpuSeconds(root: number): number {
  return processTree(root).reduce((a, s) => a + s.ticks, 0) / TICKS_PER_SECOND;
}

export interface RssSample {
  /** requests answered so far */
  requests: number;
  /** MiB by pid */
  rss: Record<string, number>;
  totalMiB: number;
}

export function sampleRss(root: number, requests: number): RssSample {
  const rss: Record<string, number> = {};
  let total = 0;
  for (const s of processTree(root)) {
    try {
      const m = /^VmRSS:\s+(\d+) kB/m.exec(fs.readFileSync(`/proc/${s.pid}/status`, 'utf8'));
      if (!m) continue;
      rss[s.pid] = Number((Number(m[1]) / 1024).toFixed(1));
      total += Number(m[1]) / 1024;
    } catch {
      /* the process went away */
    }
  }
  return { requests, rss, totalMiB: Number(total.toFixed(1)) };
}

/** Mean total RSS over the samples whose request count lies in [from, to]. */
export function meanRss(samples: RssSample[], from: number, to: number): number {
  const s = samples.filter((x) => x.requests >= from && x.requests <= to);
  return s.length ? s.reduce((a, b) => a + b.totalMiB, 0) / s.length : NaN;
}

import * as fs from 'node:fs';
import * as path from 'node:path';

/**
 * `node dist/bench/cpu-top.js <folder or .cpuprofile>... [--top N]`: the functions that take
 * the most CPU in V8 profiles (as `BENCH_CPU_PROF=<folder>` makes the bench's service write
 * them), by self time and by inclusive time, summed over the files given. Idle and GC are
 * listed as V8 names them ("(idle)", "(garbage collector)").
 */

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}
interface Profile {
  nodes: Node[];
  samples?: number[];
  timeDeltas?: number[];
}

const args = process.argv.slice(2);
const topAt = args.indexOf('--top');
const top = topAt >= 0 ? Number(args[topAt + 1]) : 30;
const inputs = args.filter((a, i) => a !== '--top' && i !== topAt + 1);
if (inputs.length === 0) {
  process.stderr.write('usage: node dist/bench/cpu-top.js <folder or .cpuprofile>... [--top N]\n');
  process.exit(2);
}
const files = inputs.flatMap((p) => (fs.statSync(p).isDirectory() ? fs.readdirSync(p).filter((f) => f.endsWith('.cpuprofile')).map((f) => path.join(p, f)) : [p]));

const self = new Map<string, number>();
const inclusive = new Map<string, number>();
let total = 0;
const label = (n: Node): string => {
  const f = n.callFrame;
  const where = f.url ? ` ${f.url.replace(/^file:\/\//, '').replace(/^.*node_modules\//, '~/').replace(process.cwd() + '/', '')}:${f.lineNumber + 1}` : '';
  return `${f.functionName || '(anonymous)'}${where}`;
};

for (const file of files) {
  const p = JSON.parse(fs.readFileSync(file, 'utf8')) as Profile;
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  // Time per node from the samples (microseconds), else from hit counts.
  const time = new Map<number, number>();
  if (p.samples && p.timeDeltas) p.samples.forEach((id, i) => time.set(id, (time.get(id) ?? 0) + (p.timeDeltas![i] ?? 0)));
  else for (const n of p.nodes) time.set(n.id, n.hitCount ?? 0);
  for (const [id, t] of time) {
    const n = byId.get(id)!;
    total += t;
    self.set(label(n), (self.get(label(n)) ?? 0) + t);
    // Inclusive: once per distinct function on the stack (recursion counted once).
    const seen = new Set<string>();
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const l = label(byId.get(cur)!);
      if (seen.has(l)) continue;
      seen.add(l);
      inclusive.set(l, (inclusive.get(l) ?? 0) + t);
    }
  }
}

const show = (title: string, m: Map<string, number>) => {
  process.stdout.write(`\n${title} (${files.length} profile${files.length > 1 ? 's' : ''}, ${(total / 1e6).toFixed(1)} s sampled)\n`);
  for (const [name, t] of [...m].sort((a, b) => b[1] - a[1]).slice(0, top)) process.stdout.write(`${((t / total) * 100).toFixed(1).padStart(5)} %  ${name}\n`);
};
show('self time', self);
show('inclusive time', inclusive);

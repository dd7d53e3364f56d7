import { HEADLINE, Row } from './report';

/**
 * An SVG chart of the headline workload: ops/s (left) and p99 latency (right, log scale) by
 * connection count, one line per target, the raw loop as a dashed ceiling. Plain SVG text,
 * no tool needed.
 */

const COLORS = ['#888888', '#1f77b4', '#17becf', '#d62728', '#ff7f0e', '#9467bd', '#2ca02c', '#8c564b'];
const W = 460;
const H = 300;
const M = { left: 62, right: 14, top: 34, bottom: 44 };

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

function niceMax(v: number): number {
  if (!(v > 0)) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  return [1, 2, 2.5, 5, 10].map((m) => m * p).find((m) => m >= v)!;
}

interface Series {
  name: string;
  color: string;
  points: Array<{ c: number; v: number }>;
}

function panel(x0: number, title: string, series: Series[], connections: number[], log: boolean, unit: string, ceiling?: { name: string; v: number }): string {
  const pw = W - M.left - M.right;
  const ph = H - M.top - M.bottom;
  const values = series.flatMap((s) => s.points.map((p) => p.v)).concat(ceiling ? [ceiling.v] : []).filter((v) => v > 0);
  const out: string[] = [`<g transform="translate(${x0},0)">`, `<text x="${M.left + pw / 2}" y="20" text-anchor="middle" font-weight="bold">${esc(title)}</text>`];
  let y: (v: number) => number;
  let ticks: number[];
  if (log) {
    const lo = 10 ** Math.floor(Math.log10(Math.min(...values, 1)));
    const hi = 10 ** Math.ceil(Math.log10(Math.max(...values, lo * 10)));
    y = (v) => M.top + ph - ((Math.log10(Math.max(v, lo)) - Math.log10(lo)) / (Math.log10(hi) - Math.log10(lo))) * ph;
    ticks = [];
    for (let t = lo; t <= hi * 1.0001; t *= 10) ticks.push(t);
  } else {
    const hi = niceMax(Math.max(...values, 1));
    y = (v) => M.top + ph - (v / hi) * ph;
    ticks = [0, 0.25, 0.5, 0.75, 1].map((f) => f * hi);
  }
  const x = (i: number) => M.left + (connections.length === 1 ? pw / 2 : (i / (connections.length - 1)) * pw);
  for (const t of ticks) {
    out.push(`<line x1="${M.left}" x2="${M.left + pw}" y1="${y(t).toFixed(1)}" y2="${y(t).toFixed(1)}" stroke="#e5e5e5"/>`);
    out.push(`<text x="${M.left - 6}" y="${(y(t) + 4).toFixed(1)}" text-anchor="end">${t >= 1000 ? `${t / 1000}k` : t}</text>`);
  }
  connections.forEach((c, i) => out.push(`<text x="${x(i).toFixed(1)}" y="${M.top + ph + 18}" text-anchor="middle">${c}</text>`));
  out.push(`<text x="${M.left + pw / 2}" y="${H - 6}" text-anchor="middle">connections</text>`);
  out.push(`<text transform="translate(14,${M.top + ph / 2}) rotate(-90)" text-anchor="middle">${esc(unit)}</text>`);
  out.push(`<rect x="${M.left}" y="${M.top}" width="${pw}" height="${ph}" fill="none" stroke="#999"/>`);
  if (ceiling) {
    out.push(`<line x1="${M.left}" x2="${M.left + pw}" y1="${y(ceiling.v).toFixed(1)}" y2="${y(ceiling.v).toFixed(1)}" stroke="#555" stroke-dasharray="5,4"/>`);
    out.push(`<text x="${M.left + pw - 4}" y="${(y(ceiling.v) - 4).toFixed(1)}" text-anchor="end" fill="#555">${esc(ceiling.name)}</text>`);
  }
  for (const s of series) {
    const pts = s.points.map((p) => [x(connections.indexOf(p.c)), y(p.v)] as const);
    if (pts.length > 1) out.push(`<polyline fill="none" stroke="${s.color}" stroke-width="2" points="${pts.map(([a, b]) => `${a.toFixed(1)},${b.toFixed(1)}`).join(' ')}"/>`);
    for (const [a, b] of pts) out.push(`<circle cx="${a.toFixed(1)}" cy="${b.toFixed(1)}" r="3" fill="${s.color}"/>`);
  }
  out.push('</g>');
  return out.join('\n');
}

export function chartSvg(rows: Row[], connections: number[], caption: string): string {
  const head = rows.filter((r) => r.workload === HEADLINE && r.connections !== null && r.problems.length === 0);
  const names = [...new Set(head.map((r) => r.target))];
  const series = (value: (r: Row) => number): Series[] =>
    names.map((name, i) => ({ name, color: COLORS[i % COLORS.length], points: head.filter((r) => r.target === name).map((r) => ({ c: r.connections!, v: value(r) })) }));
  const raw = rows.find((r) => r.target === 'raw loop' && r.problems.length === 0);
  const legendY = H + 8;
  const legend = names.map((n, i) => {
    const lx = 20 + (i % 3) * 300;
    const ly = legendY + Math.floor(i / 3) * 18;
    return `<rect x="${lx}" y="${ly}" width="14" height="4" fill="${COLORS[i % COLORS.length]}"/><text x="${lx + 20}" y="${ly + 6}">${esc(n)}</text>`;
  });
  const height = legendY + Math.ceil(names.length / 3) * 18 + 26;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${2 * W}" height="${height}" viewBox="0 0 ${2 * W} ${height}" font-family="sans-serif" font-size="12">
<rect width="100%" height="100%" fill="#fff"/>
${panel(0, `${HEADLINE}: throughput`, series((r) => r.opsPerSec), connections, false, 'ops/s', raw ? { name: `raw loop ${Math.round(raw.opsPerSec)} ops/s`, v: raw.opsPerSec } : undefined)}
${panel(W, `${HEADLINE}: p99 latency`, series((r) => r.p99Ms), connections, true, 'p99 ms (log)')}
${legend.join('\n')}
<text x="20" y="${height - 8}" fill="#555">${esc(caption)}</text>
</svg>
`;
}

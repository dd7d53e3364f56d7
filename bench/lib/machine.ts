import * as fs from 'node:fs';
import * as os from 'node:os';

export interface MachineInfo {
  cpus: number;
  availableParallelism: number;
  cpuModel: string;
  totalMemoryMiB: number;
  platform: string;
  node: string;
  loadAverage1m: number;
  /** share of all CPUs busy during one second before the bench, 0..1; null off Linux */
  busyBefore: number | null;
  date: string;
}

function cpuTicks(): { busy: number; total: number } | null {
  try {
    const line = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0];
    const v = line.trim().split(/\s+/).slice(1).map(Number);
    const idle = v[3] + (v[4] ?? 0);
    const total = v.reduce((a, b) => a + b, 0);
    return { busy: total - idle, total };
  } catch {
    return null;
  }
}

/** How busy the machine is over `ms` (other work skews every number here). */
export async function cpuBusy(ms = 1000): Promise<number | null> {
  const a = cpuTicks();
  await new Promise((r) => setTimeout(r, ms));
  const b = cpuTicks();
  if (!a || !b || b.total === a.total) return null;
  return (b.busy - a.busy) / (b.total - a.total);
}

export async function machineInfo(): Promise<MachineInfo> {
  const cpus = os.cpus();
  return {
    cpus: cpus.length,
    availableParallelism: os.availableParallelism(),
    cpuModel: cpus[0]?.model ?? 'unknown',
    totalMemoryMiB: Math.round(os.totalmem() / 2 ** 20),
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
    node: process.version,
    loadAverage1m: Number(os.loadavg()[0].toFixed(2)),
    busyBefore: await cpuBusy(),
    date: new Date().toISOString(),
  };
}

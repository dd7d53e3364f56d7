import * as fs from 'node:fs';

/**
 * The process of a service this test process started (`bin/kms.js serve` on `port`): the
 * primary, which with KMS_WORKERS=1 is also the worker. Found through /proc.
 */
export function servicePid(port: number): number {
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const status = fs.readFileSync(`/proc/${d}/status`, 'utf8');
      if (/^PPid:\s+(\d+)$/m.exec(status)?.[1] !== String(process.pid)) continue;
      if (fs.readFileSync(`/proc/${d}/environ`, 'latin1').split('\0').includes(`KMS_PORT=${port}`)) return Number(d);
    } catch {
      /* gone meanwhile, or not ours */
    }
  }
  throw new Error(`no service process on port ${port}`);
}

/** Peak resident memory (VmHWM) in bytes since the last `resetPeakRss`. */
export function peakRss(pid: number): number {
  const kb = /^VmHWM:\s+(\d+) kB$/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
  return Number(kb) * 1024;
}

export function resetPeakRss(pid: number): void {
  fs.writeFileSync(`/proc/${pid}/clear_refs`, '5');
}

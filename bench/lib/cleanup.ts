import { ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

/**
 * Everything the bench starts or creates is registered here and undone by `cleanup()`, on
 * success, on failure and on SIGINT/SIGTERM: child processes (by their pid, and the process
 * group of those started detached) and temporary folders.
 */

/** child -> whether it leads its own process group (spawned detached) */
const children = new Map<ChildProcess, boolean>();
const dirs = new Set<string>();
/** Set once cleanup starts: whatever is started after that is stopped at once. */
let closing = false;

export function tempDir(prefix: string): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), `kms-bench-${prefix}-`));
  dirs.add(d);
  return d;
}

export function removeDir(d: string): void {
  fs.rmSync(d, { recursive: true, force: true });
  dirs.delete(d);
}

export function track(child: ChildProcess, group = false): ChildProcess {
  if (closing) {
    child.kill('SIGKILL');
    return child;
  }
  children.set(child, group);
  child.once('exit', () => children.delete(child));
  return child;
}

const alive = (c: ChildProcess): boolean => c.exitCode === null && c.signalCode === null;

function signal(c: ChildProcess, sig: NodeJS.Signals, group: boolean): void {
  try {
    // A detached child leads its own process group: signal the group (its workers too).
    if (group && c.pid !== undefined) process.kill(-c.pid, sig);
    else c.kill(sig);
  } catch {
    /* already gone */
  }
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves once the child has exited. */
export async function stopChild(c: ChildProcess, graceMs = 8000, group = false): Promise<void> {
  if (!alive(c)) return;
  await new Promise<void>((resolve) => {
    c.once('exit', () => resolve());
    // The leader stops its own workers; SIGTERM only it.
    signal(c, 'SIGTERM', false);
    // While the leader lives the group is surely ours: SIGKILL reaches its workers too.
    setTimeout(() => {
      if (alive(c)) signal(c, 'SIGKILL', group);
    }, graceMs).unref();
  });
}

export async function cleanup(): Promise<void> {
  closing = true;
  await Promise.all([...children].map(([c, group]) => stopChild(c, 5000, group)));
  for (const d of [...dirs]) removeDir(d);
}

let installed = false;
export function cleanupOnSignals(): void {
  if (installed) return;
  installed = true;
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.once(sig, () => {
      process.stderr.write(`\nbench: ${sig}, cleaning up\n`);
      void cleanup().finally(() => process.exit(130));
    });
  }
}

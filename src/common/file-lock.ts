import * as fs from 'node:fs';

/**
 * Runs `fn` while holding an exclusive lock file, between processes on one machine. A lock
 * not refreshed for `staleMs` (its holder refreshes it) is taken to belong to a crashed
 * process and is broken.
 */
export async function withFileLock<T>(file: string, fn: () => Promise<T>, staleMs = 60_000): Promise<T> {
  const until = Date.now() + 2 * staleMs;
  for (;;) {
    try {
      fs.closeSync(fs.openSync(file, 'wx', 0o600));
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      try {
        if (Date.now() - fs.statSync(file).mtimeMs > staleMs) fs.rmSync(file, { force: true });
      } catch {
        /* released meanwhile */
      }
      if (Date.now() > until) throw new Error(`could not take the lock ${file}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  // Kept fresh while held, so that a long job is not taken for a crashed one.
  const beat = setInterval(() => {
    try {
      const now = new Date();
      fs.utimesSync(file, now, now);
    } catch {
      /* broken by someone who took it for stale */
    }
  }, staleMs / 4);
  beat.unref();
  try {
    return await fn();
  } finally {
    clearInterval(beat);
    fs.rmSync(file, { force: true });
  }
}

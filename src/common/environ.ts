import * as fs from 'node:fs';

/**
 * Takes a secret variable out of this process's environment once the configuration has read
 * it: out of process.env, so that child processes (cluster workers included) do not inherit
 * it, and out of the block that /proc/PID/environ shows. That block keeps the variables the
 * process started with whatever process.env says (unsetenv only drops libc's pointer to the
 * text), so on Linux the text itself is overwritten with zero bytes through /proc/self/mem.
 * Returns false when the variable was set but that block could not be cleared.
 */
export function scrubEnv(name: string): boolean {
  if (process.env[name] === undefined) return true;
  delete process.env[name];
  return process.platform === 'linux' && wipeStartupEnvironment(name);
}

/** Fields 50 and 51 of /proc/self/stat (proc(5)): where the start-up environment lies in memory. */
function startupEnvironmentBounds(): [number, number] {
  const stat = fs.readFileSync('/proc/self/stat', 'latin1');
  // The fields after the command name, which may itself hold spaces, start with field 3.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return [Number(fields[50 - 3]), Number(fields[51 - 3])];
}

function wipeStartupEnvironment(name: string): boolean {
  try {
    const [start, end] = startupEnvironmentBounds();
    if (!(end > start)) return false;
    const fd = fs.openSync('/proc/self/mem', 'r+');
    try {
      const block = Buffer.alloc(end - start);
      fs.readSync(fd, block, 0, block.length, start);
      const prefix = Buffer.from(`${name}=`);
      let wiped = false;
      // Entries are NAME=value strings, each ended by a zero byte.
      for (let at = 0; at < block.length; ) {
        const zero = block.indexOf(0, at);
        const stop = zero < 0 ? block.length : zero;
        if (block.subarray(at, at + prefix.length).equals(prefix)) {
          fs.writeSync(fd, Buffer.alloc(stop - at), 0, stop - at, start + at);
          wiped = true;
        }
        at = stop + 1;
      }
      block.fill(0);
      return wiped;
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    return false;
  }
}

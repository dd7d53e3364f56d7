import * as fs from 'node:fs';
import * as path from 'node:path';

/** Settings shared by the bench process and its child servers. */

export const PLAINTEXT_BYTES = 1024;
export const REGION = 'ap-guangzhou';
export const API_VERSION = '2019-01-18';
export const LOOPBACK = '127.0.0.1';
export const WRK = fs.existsSync('/usr/bin/wrk') ? '/usr/bin/wrk' : 'wrk';

/** The only credential the smallest server knows (it has no database). */
export const SMALLEST_CREDENTIAL = { SecretId: 'AKIDbenchSmallestServer0001', SecretKey: 'bench-smallest-server-secret-key-0001' } as const;
/** The KeyId the smallest server serves; any other KeyId is refused. */
export const SMALLEST_KEY_ID = '00000000-0000-4000-8000-000000000001';

function positive(name: string, dflt: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return dflt;
  const v = Number(raw);
  if (!Number.isFinite(v) || v <= 0) throw new Error(`${name} must be a positive number, got "${raw}"`);
  return v;
}

export const benchSeconds = (): number => Math.max(1, Math.round(positive('BENCH_SECONDS', 5)));
export const warmupSeconds = (): number => Math.max(1, Math.round(positive('BENCH_WARMUP_SECONDS', 1)));
export const CONNECTIONS = [1, 8, 64] as const;

/** The repository root (where package.json and bin/kms.js are), from src or from dist. */
export function repoRoot(): string {
  let dir = __dirname;
  while (!fs.existsSync(path.join(dir, 'bin', 'kms.js'))) {
    const up = path.dirname(dir);
    if (up === dir) throw new Error('cannot find the repository root (bin/kms.js) above ' + __dirname);
    dir = up;
  }
  return dir;
}

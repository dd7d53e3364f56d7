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

/** The parts of the bench, in the order they run; BENCH_ONLY=encrypt,keys,... runs some only. */
export const SECTIONS = ['encrypt', 'actions', 'huawei', 'keys', 'memory', 'stream', 'sdk', 'fuzz'] as const;
export type Section = (typeof SECTIONS)[number];

export function sections(): Set<Section> {
  const raw = (process.env.BENCH_ONLY ?? '').trim();
  if (raw === '') return new Set(SECTIONS);
  const picked = raw.split(',').map((s) => s.trim()).filter(Boolean);
  const unknown = picked.filter((s) => !(SECTIONS as readonly string[]).includes(s));
  if (unknown.length) throw new Error(`BENCH_ONLY: unknown part ${unknown.join(', ')}; the parts are ${SECTIONS.join(', ')}`);
  return new Set(picked as Section[]);
}

/**
 * How many CMKs the key-count part spreads Encrypt over (against 10). Not 10,000 by default:
 * SoftHSM 2.6.1's file object store rescans every object file when a token object is made or
 * first looked up, so making N keys costs O(N^2) (about 75 s for 1,000 on a loaded 2-core
 * machine, over an hour for 10,000) and a key's first use in each worker O(N).
 */
export const manyKeys = (): number => Math.max(11, Math.round(positive('BENCH_KEYS', 1_000)));
/**
 * The same in wrapped key storage, where a CMK is a database row and no token object: making
 * 10,000 (the figure, and the account quota's default) takes about half a minute.
 */
export const manyWrappedKeys = (): number => Math.max(11, Math.round(positive('BENCH_WRAPPED_KEYS', 10_000)));
/**
 * How many requests the memory part sends before it starts sampling: a fresh service's RSS
 * climbs for its first 100k or so (V8's heap and the caches reach their working size), which
 * says nothing about a leak.
 */
export const memoryWarmup = (): number => Math.round(positive('BENCH_MEMORY_WARMUP', 200_000));
/**
 * How many times the targets' servers (the smallest server cluster and the service with its
 * defaults, audit off and limits on) run Encrypt 1 KiB, started afresh and interleaved; the
 * targets compare medians. One service start can run a third slower than the next for its
 * whole life on a shared VM, which a single round takes for the code's doing.
 */
export const targetRounds = (): number => Math.max(1, Math.round(positive('BENCH_ROUNDS', 3)));
/** Requests a face of the fuzz part (the hostile-input test's longer run; CI sends 10,000 a face). */
export const fuzzRequests = (): number => Math.max(1, Math.round(positive('BENCH_FUZZ_REQUESTS', 100_000)));
/** How many requests the memory part sends while it samples RSS. */
export const memoryRequests = (): number => Math.max(200_000, Math.round(positive('BENCH_MEMORY_REQUESTS', 1_000_000)));

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

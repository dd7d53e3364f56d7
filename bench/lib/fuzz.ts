import { spawn } from 'node:child_process';
import * as path from 'node:path';
import { repoRoot } from './constants';

export interface FuzzResult {
  /** Requests a face. */
  perFace: number;
  passed: boolean;
  seconds: number;
  /** The fast-check seed of the run (KMS_FUZZ_SEED replays it). */
  seed: string | null;
  /** Jest's summary line, or why the run did not finish. */
  summary: string;
  /** The end of Jest's output when the run failed. */
  output?: string;
}

/**
 * The longer run of the hostile-input test (test/hostile-input.e2e.test.ts), which CI runs with
 * 10,000 requests a face: the same checks (no 5xx, only documented codes, no process died,
 * still serving) with `perFace` requests on each face, run by Jest from the checkout as `npm
 * test` would run it.
 */
export function fuzzRun(perFace: number): Promise<FuzzResult> {
  const root = repoRoot();
  const started = Date.now();
  const jest = path.join(root, 'node_modules', 'jest', 'bin', 'jest.js');
  const child = spawn(process.execPath, [jest, '--ci', 'test/hostile-input.e2e.test.ts'], { cwd: root, env: { ...process.env, KMS_FUZZ_REQUESTS: String(perFace) }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr.on('data', (b: Buffer) => (out += b.toString()));
  return new Promise((resolve) => {
    const done = (passed: boolean, why?: string) => {
      const summary = why ?? /^Tests:.*$/m.exec(out)?.[0] ?? 'Jest printed no summary';
      resolve({ perFace, passed, seconds: (Date.now() - started) / 1000, seed: /\(seed (\d+)\)/.exec(out)?.[1] ?? null, summary, ...(passed ? {} : { output: out.slice(-4000) }) });
    };
    child.on('error', (e) => done(false, `could not start Jest: ${e.message}`));
    child.on('close', (code) => done(code === 0));
  });
}

import * as crypto from 'node:crypto';
import { PLAINTEXT_BYTES } from './constants';
import { removeDir, tempDir } from './cleanup';
import { BenchToken, GCM_IV_BYTES } from './softhsm';
import { LatencySample } from './stats';

export interface RawResult {
  ops: number;
  seconds: number;
  opsPerSec: number;
  p50Ms: number;
  p99Ms: number;
}

/**
 * The reference without HTTP: in this process, a single-threaded loop of C_EncryptInit +
 * C_Encrypt (AES-256-GCM, 1 KiB, fresh 12-byte IV and a distinct AAD per op) on a fresh
 * SoftHSM token. Each op (IV + AAD + the two calls) is timed with hrtime.
 */
export function rawLoop(seconds: number, warmupSeconds: number): RawResult {
  const dir = tempDir('raw');
  const token = BenchToken.create(dir);
  try {
    const plaintext = crypto.randomBytes(PLAINTEXT_BYTES);
    const aadPrefix = Buffer.from('bench-raw-loop:');
    let n = 0;
    const op = (): { iv: Buffer; aad: Buffer; sealed: Buffer } => {
      const iv = crypto.randomBytes(GCM_IV_BYTES);
      const aad = Buffer.concat([aadPrefix, Buffer.from(String(n++))]);
      return { iv, aad, sealed: token.encrypt(iv, aad, plaintext) };
    };

    // The output must decrypt back, or the loop measures nothing useful.
    const probe = op();
    if (!token.decrypt(probe.iv, probe.aad, probe.sealed).equals(plaintext)) throw new Error('raw loop: AES-GCM round trip failed');

    const run = (durationNs: bigint, sample: LatencySample | null): { ops: number; ns: bigint } => {
      const start = process.hrtime.bigint();
      const end = start + durationNs;
      let ops = 0;
      let now = start;
      while (now < end) {
        const t0 = now;
        op();
        now = process.hrtime.bigint();
        sample?.add(Number(now - t0));
        ops++;
      }
      return { ops, ns: now - start };
    };
    run(BigInt(warmupSeconds) * 1_000_000_000n, null);
    const sample = new LatencySample();
    const { ops, ns } = run(BigInt(seconds) * 1_000_000_000n, sample);
    const elapsed = Number(ns) / 1e9;
    return { ops, seconds: elapsed, opsPerSec: ops / elapsed, ...sample.summary() };
  } finally {
    token.close();
    removeDir(dir);
  }
}

import * as crypto from 'node:crypto';
import * as os from 'node:os';
import * as path from 'node:path';
import { cleanup, cleanupOnSignals, tempDir } from './lib/cleanup';
import { CONNECTIONS, PLAINTEXT_BYTES, WRK, benchSeconds, repoRoot, warmupSeconds } from './lib/constants';
import { rawLoop } from './lib/raw-loop';
import { machineInfo } from './lib/machine';
import { ratios, render, Row, verdicts, writeJson } from './lib/report';
import { sendOnce, signedEncrypt } from './lib/request';
import { Server, startConstantServer, startService, startSmallestServer } from './lib/targets';
import { runWrk, WrkResult, wrkProblems } from './lib/wrk';

/**
 * `npm run bench`: a signed Encrypt of 1 KiB over loopback at 1, 8 and 64 connections (wrk in
 * its own process) against the constant server, the smallest server and the real service,
 * next to a raw pkcs11js loop; the service once as configured by default (audit trail on) and
 * once with KMS_AUDIT=off. See bench/README.md.
 */

type ServerTarget = Exclude<Row['target'], 'raw loop'>;

interface RunRecord {
  target: ServerTarget;
  phase: 'warmup' | 'measure';
  result: WrkResult;
  problems: string[];
}

const log = (s: string): void => void process.stdout.write(s + '\n');

class Bench {
  readonly rows: Row[] = [];
  readonly runs: RunRecord[] = [];
  readonly failures: string[] = [];
  readonly serverLogs: Record<string, string> = {};
  private readonly plaintextB64 = crypto.randomBytes(PLAINTEXT_BYTES).toString('base64');
  private readonly scripts = tempDir('wrk');

  constructor(readonly seconds: number, readonly warmup: number) {}

  raw(): void {
    log(`raw loop: pkcs11js C_EncryptInit + C_Encrypt in this process, ${this.seconds} s`);
    const r = rawLoop(this.seconds, this.warmup);
    this.rows.push({ target: 'raw loop', connections: null, opsPerSec: r.opsPerSec, p50Ms: r.p50Ms, p99Ms: r.p99Ms, requests: r.ops, problems: [] });
    log(`  ${r.opsPerSec.toFixed(0)} ops/s, p50 ${r.p50Ms.toFixed(3)} ms, p99 ${r.p99Ms.toFixed(3)} ms`);
  }

  /** Starts a server, checks one answer, runs wrk at each connection count, stops it. */
  async server(target: ServerTarget, start: () => Promise<Server>): Promise<void> {
    log(`${target}: starting`);
    let server: Server;
    try {
      server = await start();
    } catch (e) {
      this.fail(`${target}: did not start: ${(e as Error).message}`);
      return;
    }
    try {
      const answer = await sendOnce(signedEncrypt(server.target, this.plaintextB64), `${target} (before the runs)`);
      await server.checkAnswer(answer, this.plaintextB64);
      log(`  ${server.target.endpoint}: one signed Encrypt answered a CiphertextBlob`);
      for (const c of CONNECTIONS) await this.level(target, server, c);
    } catch (e) {
      this.fail(`${target}: ${(e as Error).message}`);
    } finally {
      this.serverLogs[target] = server.logs();
      await server.stop();
    }
  }

  private async level(target: ServerTarget, server: Server, connections: number): Promise<void> {
    // Signed just before each wrk run: the signature is valid for 5 minutes.
    const warm = await runWrk(signedEncrypt(server.target, this.plaintextB64), connections, this.warmup, this.scripts);
    this.runs.push({ target, phase: 'warmup', result: warm, problems: wrkProblems(warm) });
    const result = await runWrk(signedEncrypt(server.target, this.plaintextB64), connections, this.seconds, this.scripts);
    const problems = [...wrkProblems(warm).map((p) => `warm-up: ${p}`), ...wrkProblems(result)];
    try {
      await sendOnce(signedEncrypt(server.target, this.plaintextB64), `${target} (after ${connections} connections)`);
    } catch (e) {
      problems.push((e as Error).message);
    }
    this.runs.push({ target, phase: 'measure', result, problems });
    this.rows.push({ target, connections, opsPerSec: result.requestsPerSec, p50Ms: result.p50Ms, p99Ms: result.p99Ms, requests: result.requests, problems });
    const mark = problems.length ? `  FAILED: ${problems.join('; ')}` : '';
    log(`  ${String(connections).padStart(2)} connections: ${result.requestsPerSec.toFixed(0)} ops/s, p50 ${result.p50Ms.toFixed(3)} ms, p99 ${result.p99Ms.toFixed(3)} ms${mark}`);
  }

  private fail(msg: string): void {
    this.failures.push(msg);
    process.stderr.write(`bench: ${msg}\n`);
  }
}

async function main(): Promise<number> {
  cleanupOnSignals();
  const seconds = benchSeconds();
  const warmup = warmupSeconds();
  const workers = Math.min(os.availableParallelism(), 64);
  const machine = await machineInfo();
  log(`encrypt bench: ${PLAINTEXT_BYTES} B plaintext, ${seconds} s per run (+${warmup} s warm-up), connections ${CONNECTIONS.join('/')}`);
  log(`machine: ${machine.cpus} cpus (${machine.cpuModel}), node ${machine.node}; service KMS_WORKERS = os.availableParallelism() = ${workers}`);
  if (machine.busyBefore !== null && machine.busyBefore > 0.1) log(`note: the machine is not idle (${(machine.busyBefore * 100).toFixed(0)} % CPU busy before the bench); expect noisy numbers`);

  const bench = new Bench(seconds, warmup);
  bench.raw();
  await bench.server('constant server', startConstantServer);
  await bench.server('smallest server', startSmallestServer);
  // The audit trail is on by default (KMS_AUDIT=required); its cost is the difference.
  await bench.server('service', () => startService(workers));
  await bench.server('service, audit off', () => startService(workers, { KMS_AUDIT: 'off' }));

  const rs = ratios(bench.rows, CONNECTIONS);
  const vs = verdicts(bench.rows);
  log('\n' + render(bench.rows, rs, vs));
  const serviceLog = (bench.serverLogs['service'] ?? '').trim();
  if (serviceLog) log(`\nservice log (warn and above), last lines:\n${serviceLog.split('\n').slice(-20).join('\n')}`);
  for (const f of bench.failures) log(`\nFAILED: ${f}`);

  const file = path.join(repoRoot(), 'bench', 'results', 'latest.json');
  writeJson(file, {
    machine,
    config: { seconds, warmupSeconds: warmup, connections: CONNECTIONS, plaintextBytes: PLAINTEXT_BYTES, serviceWorkers: workers, wrk: WRK, wrkThreads: 'min(connections, 2)' },
    rows: bench.rows,
    ratios: rs,
    targets: vs,
    failures: bench.failures,
    runs: bench.runs.map((r) => ({ ...r, result: { ...r.result, raw: r.result.raw.trim().split('\n') } })),
    serverLogs: bench.serverLogs,
  });
  log(`\nwrote ${path.relative(process.cwd(), file) || file}`);
  const failed = bench.failures.length > 0 || bench.rows.some((r) => r.problems.length > 0);
  if (failed) log('\nbench: FAILED — some targets answered errors or did not run; see above and latest.json');
  return failed ? 1 : 0;
}

main()
  .catch((e: unknown) => {
    process.stderr.write(`bench: ${(e as Error).stack ?? String(e)}\n`);
    return 1;
  })
  .then(async (code) => {
    await cleanup();
    process.exit(code);
  });

import * as crypto from 'node:crypto';
import * as os from 'node:os';
import * as path from 'node:path';
import { chartSvg } from './lib/chart';
import { cleanup, cleanupOnSignals, tempDir } from './lib/cleanup';
import { CONNECTIONS, PLAINTEXT_BYTES, SECTIONS, Section, WRK, benchSeconds, fuzzRequests, manyKeys, manyWrappedKeys, memoryRequests, memoryWarmup, repoRoot, sections, targetRounds, warmupSeconds } from './lib/constants';
import { FuzzResult, fuzzRun } from './lib/fuzz';
import { encryptDataSlots } from './lib/huawei';
import { streamBench, StreamRows } from './lib/huks-stream';
import { createKeys } from './lib/keys';
import { rawLoop } from './lib/raw-loop';
import { sdkBench } from './lib/sdk-throughput';
import { machineInfo } from './lib/machine';
import { meanRss, RssSample, sampleRss, treeCpuSeconds } from './lib/procs';
import { HEADLINE, KeyRuns, MemoryFigures, find, median, ratios, render, Row, updateReadme, verdicts, writeFile, writeJson } from './lib/report';
import { EncryptTarget, SignedRequest, sendAction, signedAction, signedEncrypt } from './lib/request';
import { Server, startConstantServer, startService, startSmallestServer } from './lib/targets';
import { runWrk, WrkPlan, WrkResult, wrkProblems } from './lib/wrk';

/**
 * `npm run bench`: signed calls over loopback (wrk in its own process) against the service and
 * the references it is held to: the constant server, the smallest server (one process, and a
 * cluster of as many processes as the service has workers), a raw pkcs11js loop. Then the other
 * actions, the Huawei face, the key count, memory over a long run and HUKS streaming; the
 * issue's targets with their ratios; JSON, markdown and an SVG chart. See bench/README.md.
 */

interface RunRecord {
  target: string;
  workload: string;
  phase: 'warmup' | 'measure';
  result: WrkResult;
  problems: string[];
}

/** A workload: how to build the wrk plan for a run of `seconds`, and one checked call. */
interface Workload {
  name: string;
  plan(seconds: number): WrkPlan;
  check(): Promise<void>;
}

const log = (s: string): void => void process.stdout.write(s + '\n');
const b64 = (bytes: number): string => crypto.randomBytes(bytes).toString('base64');

type Service = Awaited<ReturnType<typeof startService>>;
type KeyStorage = KeyRuns['storage'];

const BOUND_ENCRYPT = `${HEADLINE}, action signed`;

class Bench {
  readonly rows: Row[] = [];
  readonly runs: RunRecord[] = [];
  readonly failures: string[] = [];
  readonly serverLogs: Record<string, string> = {};
  readonly scripts = tempDir('wrk');
  readonly plaintextB64 = b64(PLAINTEXT_BYTES);
  /** The round the rows made now belong to (see targetRounds). */
  round = 1;

  constructor(readonly seconds: number, readonly warmup: number) {}

  raw(): void {
    log(`raw loop: pkcs11js C_EncryptInit + C_Encrypt in this process, ${this.seconds} s`);
    const r = rawLoop(this.seconds, this.warmup);
    this.rows.push({ target: 'raw loop', workload: HEADLINE, connections: null, opsPerSec: r.opsPerSec, p50Ms: r.p50Ms, p99Ms: r.p99Ms, requests: r.ops, problems: [] });
    log(`  ${r.opsPerSec.toFixed(0)} ops/s, p50 ${r.p50Ms.toFixed(3)} ms, p99 ${r.p99Ms.toFixed(3)} ms`);
  }

  /**
   * The headline Encrypt of 1 KiB, checked (the service decrypts the answer back). With
   * `bindAction` the request also signs X-TC-Action and X-TC-Region, so the service claims nothing.
   */
  encrypt(server: Server, plaintextB64 = this.plaintextB64, name = HEADLINE, bindAction = false): Workload {
    return {
      name,
      plan: () => ({ requests: [signedEncrypt(server.target, plaintextB64, undefined, bindAction)], expect: '"CiphertextBlob"', errorMarker: '"Error"' }),
      check: async () => {
        const answer = await sendAction(signedEncrypt(server.target, plaintextB64, undefined, bindAction), `${server.name} ${name}`, 'CiphertextBlob');
        await server.checkAnswer(answer as never, plaintextB64);
      },
    };
  }

  /** Starts a server, runs `workloads` on it at each connection count, stops it. */
  async server(target: string, start: () => Promise<Server>, workloads: (s: Server) => Promise<Workload[]> | Workload[] = (s) => [this.encrypt(s)]): Promise<void> {
    log(`${target}: starting`);
    let server: Server;
    try {
      server = await start();
    } catch (e) {
      this.fail(`${target}: did not start: ${(e as Error).message}`);
      return;
    }
    try {
      for (const w of await workloads(server)) await this.workload(target, w, CONNECTIONS, server.pid);
    } catch (e) {
      this.fail(`${target}: ${(e as Error).message}`);
    } finally {
      this.serverLogs[target] = server.logs();
      await server.stop();
    }
  }

  async workload(target: string, w: Workload, connections: readonly number[] = CONNECTIONS, pid?: number): Promise<Row[]> {
    const rows: Row[] = [];
    try {
      await w.check();
    } catch (e) {
      this.fail(`${target} ${w.name}: ${(e as Error).message}`);
      return rows;
    }
    log(`  ${w.name}:`);
    for (const c of connections) rows.push(await this.level(target, w, c, pid));
    return rows;
  }

  private async level(target: string, w: Workload, connections: number, pid?: number): Promise<Row> {
    const problems: string[] = [];
    let result: WrkResult | undefined;
    let cpuUsPerOp: number | undefined;
    try {
      const warm = await runWrk(w.plan(this.warmup), connections, this.warmup, this.scripts);
      this.runs.push({ target, workload: w.name, phase: 'warmup', result: warm, problems: wrkProblems(warm) });
      problems.push(...wrkProblems(warm).map((p) => `warm-up: ${p}`));
      const cpu0 = pid ? treeCpuSeconds(pid) : 0;
      result = await runWrk(w.plan(this.seconds), connections, this.seconds, this.scripts);
      if (pid && result.requests > 0) cpuUsPerOp = ((treeCpuSeconds(pid) - cpu0) * 1e6) / result.requests;
      problems.push(...wrkProblems(result));
      this.runs.push({ target, workload: w.name, phase: 'measure', result, problems });
    } catch (e) {
      problems.push((e as Error).message);
    }
    try {
      await w.check();
    } catch (e) {
      problems.push(`after ${connections} connections: ${(e as Error).message}`);
    }
    const row: Row = { target, workload: w.name, connections, opsPerSec: result?.requestsPerSec ?? NaN, p50Ms: result?.p50Ms ?? NaN, p99Ms: result?.p99Ms ?? NaN, requests: result?.requests ?? 0, cpuUsPerOp, problems, round: this.round };
    this.rows.push(row);
    const mark = problems.length ? `  FAILED: ${problems.join('; ').slice(0, 600)}` : '';
    log(`    ${String(connections).padStart(2)} connections: ${row.opsPerSec.toFixed(0)} ops/s, p50 ${row.p50Ms.toFixed(3)} ms, p99 ${row.p99Ms.toFixed(3)} ms, CPU ${cpuUsPerOp?.toFixed(0) ?? '-'} us/op${mark}`);
    return row;
  }

  fail(msg: string): void {
    this.failures.push(msg);
    process.stderr.write(`bench: ${msg}\n`);
  }
}

/** The other Tencent actions, the other plaintext sizes and the Huawei face, on one running service. */
async function serviceWorkloads(bench: Bench, s: Service, parts: Set<Section>): Promise<Workload[]> {
  const list: Workload[] = [];
  // The same Encrypt from a client that signs the action and region: what the claim costs, and what its wait brings under load.
  if (parts.has('encrypt')) list.push(bench.encrypt(s), bench.encrypt(s, bench.plaintextB64, BOUND_ENCRYPT, true));
  const t = s.target;
  const tencent = (name: string, action: string, params: Record<string, unknown>, expect: string): Workload => ({
    name,
    plan: () => ({ requests: [signedAction(t, action, params)], expect: `"${expect}"`, errorMarker: '"Error"' }),
    check: async () => void (await sendAction(signedAction(t, action, params), `service ${name}`, expect)),
  });
  if (parts.has('actions')) {
    const blob = ((await sendAction(signedEncrypt(t, bench.plaintextB64), 'service Encrypt', 'CiphertextBlob')) as { CiphertextBlob: string }).CiphertextBlob;
    list.push(
      tencent('Decrypt 1 KiB', 'Decrypt', { CiphertextBlob: blob }, 'Plaintext'),
      tencent('GenerateDataKey 32 B', 'GenerateDataKey', { KeyId: t.keyId, NumberOfBytes: 32 }, 'CiphertextBlob'),
      tencent('DescribeKey', 'DescribeKey', { KeyId: t.keyId }, 'KeyMetadata'),
      bench.encrypt(s, b64(32), 'Encrypt 32 B'),
      bench.encrypt(s, b64(4096), 'Encrypt 4 KiB'),
    );
  }
  if (parts.has('huawei')) {
    const target = { endpoint: t.endpoint, keyId: t.keyId, credential: { ...t.credential, Uin: s.info.uin } };
    const text = crypto.randomBytes(PLAINTEXT_BYTES / 2).toString('hex');
    list.push({
      name: 'encrypt-data 1 KiB (Huawei)',
      // One signature per second slot: a signature serves again only within 2 s of its first use.
      plan: (seconds) => {
        const { requests, base } = encryptDataSlots(target, text, seconds + 5);
        return { requests, pick: { by: 'time', base, step: 1 }, expect: '"cipher_text"', errorMarker: '"error_code"' };
      },
      check: async () => void (await sendAction(encryptDataSlots(target, text, 1).requests[0], 'service encrypt-data', 'cipher_text')),
    });
  }
  return list;
}

/** Encrypt spread over 10 and over BENCH_KEYS CMKs, each request naming a random one. */
interface KeyCount extends KeyRuns {
  createSeconds?: number;
  warmSeconds?: number;
}

/** Encrypt spread over 10 and over `count` CMKs of a service in `storage` (token: the default). */
async function keyCount(bench: Bench, workers: number, storage: KeyStorage, count: number): Promise<KeyCount> {
  const out: KeyCount = { storage, count };
  const target = storage === 'token' ? 'service' : 'service, wrapped storage';
  await bench.server(target, () => startService(workers, storage === 'token' ? {} : { KMS_KEY_STORAGE: storage }), async (s) => {
    const t0 = Date.now();
    const keyIds = [s.target.keyId, ...(await createKeys(s.target, count - 1, (n) => log(`  ${n} keys made`)))];
    out.createSeconds = (Date.now() - t0) / 1000;
    log(`  ${count} keys in ${out.createSeconds.toFixed(1)} s`);
    const spread = (n: number): Workload => {
      const ids = keyIds.slice(0, n);
      return {
        name: `Encrypt 1 KiB, random of ${n} keys`,
        plan: () => ({ requests: ids.map((keyId) => signedEncrypt({ ...s.target, keyId }, bench.plaintextB64)), pick: { by: 'random' }, expect: '"CiphertextBlob"', errorMarker: '"Error"' }),
        check: async () => void (await sendAction(signedEncrypt({ ...s.target, keyId: ids[ids.length - 1] }, bench.plaintextB64), 'service Encrypt', 'CiphertextBlob')),
      };
    };
    // Steady state: every worker has used every key (a key's first use in a process loads it
    // from the database and finds its token object) before the measured runs.
    const warm = { requests: keyIds.map((keyId) => signedEncrypt({ ...s.target, keyId }, bench.plaintextB64)), pick: { by: 'cycle' as const }, expect: '"CiphertextBlob"', errorMarker: '"Error"', stopAfter: count * workers * 6 };
    // 8 connections: first uses block a worker's event loop (sync token search), so keep its queue short.
    const w = await runWrk(warm, 8, 3600, bench.scripts);
    out.warmSeconds = w.seconds;
    log(`  warm pass: ${w.requests} requests over the ${count} keys in ${w.seconds.toFixed(1)} s`);
    if (wrkProblems(w).length) bench.fail(`key-count warm pass: ${wrkProblems(w).join('; ')}`);
    // Alternated rounds, compared by their medians, in the order few-many, many-few, ...: one
    // run of each, the many keys' after the few's, put them at 0.87x (1,000, token) and 0.83x
    // (10,000, wrapped), and a service's rate can drift down by a fifth over its rounds, which a
    // fixed order charges to the second.
    const few = spread(10);
    const many = spread(count);
    const rows: Row[] = [];
    for (let round = 1; round <= targetRounds(); round++) {
      bench.round = round;
      for (const w of round % 2 ? [few, many] : [many, few]) rows.push(...(await bench.workload(target, w, [64], s.pid)));
    }
    bench.round = 1;
    out.few = median(rows, target, 64, few.name);
    out.many = median(rows, target, 64, many.name);
    return [];
  });
  return out;
}

/** RSS of every service process while it answers BENCH_MEMORY_REQUESTS Encrypts at 64 connections, after BENCH_MEMORY_WARMUP. */
async function memory(bench: Bench, workers: number): Promise<{ figures?: MemoryFigures; samples: RssSample[]; result?: WrkResult }> {
  const total = memoryRequests();
  const samples: RssSample[] = [];
  let figures: MemoryFigures | undefined;
  let result: WrkResult | undefined;
  await bench.server('service (memory)', () => startService(workers), async (server) => {
    const s = server as Service;
    // TC3 signatures live 5 minutes: one per minute slot, signed ahead, for up to 30 minutes.
    const maxSeconds = 1800;
    const base = Math.floor(Date.now() / 1000);
    const requests: SignedRequest[] = [];
    for (let k = 0; k * 60 < maxSeconds + 60; k++) requests.push(signedEncrypt(s.target as EncryptTarget, bench.plaintextB64, base + 60 * k));
    const progress = new Map<number, number>();
    const warmup = memoryWarmup();
    log(`  ${warmup.toLocaleString('en-US')} Encrypts to warm up, then ${total.toLocaleString('en-US')} at 64 connections, RSS of every service process every ~10k requests`);
    const warm = await runWrk({ requests, pick: { by: 'time', base, step: 60 }, expect: '"CiphertextBlob"', errorMarker: '"Error"', stopAfter: warmup, progressEvery: 5000 }, 64, maxSeconds, bench.scripts);
    if (wrkProblems(warm).length) bench.fail(`memory warm-up: ${wrkProblems(warm).join('; ')}`);
    samples.push(sampleRss(s.info.pid, 0));
    const plan: WrkPlan = {
      requests,
      pick: { by: 'time', base, step: 60 },
      expect: '"CiphertextBlob"',
      errorMarker: '"Error"',
      stopAfter: total,
      progressEvery: 5000,
      onProgress: (thread, n) => {
        progress.set(thread, n);
        const done = [...progress.values()].reduce((a, b) => a + b, 0);
        const last = samples[samples.length - 1].requests;
        if (done - last >= 10_000) samples.push(sampleRss(s.info.pid, done));
        if (Math.floor(done / 100_000) > Math.floor(last / 100_000)) log(`    ${done.toLocaleString('en-US')} requests, RSS ${samples[samples.length - 1].totalMiB} MiB`);
      },
    };
    result = await runWrk(plan, 64, maxSeconds, bench.scripts);
    samples.push(sampleRss(s.info.pid, result.requests));
    const problems = wrkProblems(result);
    bench.rows.push({ target: 'service', workload: `${HEADLINE}, ${Math.round(total / 1000)}k requests`, connections: 64, opsPerSec: result.requestsPerSec, p50Ms: result.p50Ms, p99Ms: result.p99Ms, requests: result.requests, problems });
    if (problems.length) bench.fail(`memory run: ${problems.join('; ')}`);
    else figures = { requests: result.requests, firstMiB: meanRss(samples, 1, 100_000), lastMiB: meanRss(samples, result.requests - 100_000, result.requests) };
    if (figures) log(`  RSS (all processes): first 100k ${figures.firstMiB.toFixed(1)} MiB, last 100k ${figures.lastMiB.toFixed(1)} MiB; ${result.requestsPerSec.toFixed(0)} ops/s`);
    return [];
  });
  return { figures, samples, result };
}

async function main(): Promise<number> {
  cleanupOnSignals();
  const parts = sections();
  const seconds = benchSeconds();
  const warmup = warmupSeconds();
  const workers = Math.min(os.availableParallelism(), 64);
  const cluster = `smallest server x${workers}`;
  const machine = await machineInfo();
  const started = Date.now();
  log(`bench: parts ${[...parts].join(', ')}; ${seconds} s per run (+${warmup} s warm-up), connections ${CONNECTIONS.join('/')}`);
  log(`machine: ${machine.cpus} cpus (${machine.cpuModel}), node ${machine.node}, load ${machine.loadAverage1m}; service KMS_WORKERS = os.availableParallelism() = ${workers}`);
  if (machine.busyBefore !== null && machine.busyBefore > 0.1) log(`note: the machine is not idle (${(machine.busyBefore * 100).toFixed(0)} % CPU busy before the bench); expect noisy numbers`);

  const bench = new Bench(seconds, warmup);
  if (parts.has('encrypt')) {
    bench.raw();
    await bench.server('constant server', startConstantServer);
    await bench.server('smallest server', () => startSmallestServer(1));
    await bench.server(cluster, () => startSmallestServer(workers));
  }
  // The service as configured by default (audit trail on), rate limits off.
  if (parts.has('encrypt') || parts.has('actions') || parts.has('huawei')) await bench.server('service', () => startService(workers), (s) => serviceWorkloads(bench, s as Service, parts));
  if (parts.has('encrypt')) {
    await bench.server('service, audit off', () => startService(workers, { KMS_AUDIT: 'off' }));
    // Rate limits on, every limit raised out of the way: what counting costs.
    await bench.server('service, limits on', () => startService(workers, { KMS_RATE_LIMITS: '*=9999999' }));
    // The targets' servers again, started afresh, interleaved: the targets compare medians.
    for (let round = 2; round <= targetRounds(); round++) {
      bench.round = round;
      log(`targets, round ${round} of ${targetRounds()}: ${HEADLINE}`);
      await bench.server(cluster, () => startSmallestServer(workers));
      await bench.server('service', () => startService(workers));
      await bench.server('service, audit off', () => startService(workers, { KMS_AUDIT: 'off' }));
      await bench.server('service, limits on', () => startService(workers, { KMS_RATE_LIMITS: '*=9999999' }));
    }
    bench.round = 1;
  }
  const keys = parts.has('keys') ? [await keyCount(bench, workers, 'token', manyKeys()), await keyCount(bench, workers, 'wrapped', manyWrappedKeys())] : [];
  const mem = parts.has('memory') ? await memory(bench, workers) : undefined;
  let streams: StreamRows = { failures: [] };
  if (parts.has('stream')) {
    streams = await streamBench(async () => {
      const s = await startService(workers);
      return { endpoint: s.target.endpoint, credential: s.target.credential, stop: () => s.stop() };
    }, log);
    bench.failures.push(...streams.failures);
  }
  // The Encryption SDK's local speed per algorithm, with a cached data key, beside the raw cipher.
  let sdk: Awaited<ReturnType<typeof sdkBench>> | undefined;
  if (parts.has('sdk')) {
    sdk = await sdkBench(async () => {
      const s = await startService(workers);
      return { endpoint: s.target.endpoint, keyId: s.target.keyId, credential: s.target.credential, stop: () => s.stop() };
    }, log);
    bench.failures.push(...sdk.failures);
  }

  // The hostile-input test's longer run (CI sends 10,000 requests a face).
  let fuzz: FuzzResult | undefined;
  if (parts.has('fuzz')) {
    log(`hostile input: ${fuzzRequests()} generated requests a face (test/hostile-input.e2e.test.ts, run by Jest)`);
    fuzz = await fuzzRun(fuzzRequests());
    log(`  ${fuzz.passed ? 'passed' : 'FAILED'}: ${fuzz.summary} (${fuzz.seconds.toFixed(0)} s, seed ${fuzz.seed ?? '?'})`);
    if (!fuzz.passed) bench.fail(`hostile input: ${fuzz.summary}\n${fuzz.output ?? ''}`);
  }
  const notes: string[] = [];
  // Beside the 1-connection target, what the service does without the signature claim (see
  // bench/README.md, "What bounds 1 connection"); the row runs in round 1 only, so round 1's cluster.
  const unclaimed = find(bench.rows, 'service', 1, BOUND_ENCRYPT);
  const cluster1 = find(bench.rows, cluster, 1);
  if (unclaimed && cluster1 && !unclaimed.problems.length && !cluster1.problems.length) notes.push(`${BOUND_ENCRYPT} (no signature claim) at 1 connection: ${unclaimed.opsPerSec.toFixed(0)} vs ${cluster1.opsPerSec.toFixed(0)} ops/s of the ${cluster} in the same round = ${(unclaimed.opsPerSec / cluster1.opsPerSec).toFixed(2)}x`);
  if (fuzz) notes.push(`hostile input (${fuzz.perFace} generated requests a face, seed ${fuzz.seed ?? '?'}): ${fuzz.passed ? 'no 5xx, only documented codes, no process died, still serving' : 'FAILED'} (${fuzz.seconds.toFixed(0)} s)`);

  const names = { cluster };
  const rs = ratios(bench.rows, CONNECTIONS, names);
  const vs = verdicts(bench.rows, names, { keys, memory: mem?.figures });
  const text = render(bench.rows, rs, vs, streams, false, notes);
  log('\n' + text);
  const serviceLog = (bench.serverLogs['service'] ?? '').trim();
  if (serviceLog) log(`\nservice log (warn and above), last lines:\n${serviceLog.split('\n').slice(-20).join('\n')}`);
  for (const f of bench.failures) log(`\nFAILED: ${f}`);

  const minutes = (Date.now() - started) / 60_000;
  const dir = path.join(repoRoot(), 'bench', 'results');
  const caption = `${machine.date.slice(0, 10)}, ${machine.cpus} × ${machine.cpuModel}, node ${machine.node}, load ${machine.loadAverage1m} at start; service ${workers} workers; ${seconds} s per run`;
  writeJson(path.join(dir, 'latest.json'), {
    machine,
    config: { parts: [...parts], fuzzRequestsPerFace: fuzzRequests(), rounds: targetRounds(), seconds, warmupSeconds: warmup, connections: CONNECTIONS, plaintextBytes: PLAINTEXT_BYTES, serviceWorkers: workers, wrk: WRK, wrkThreads: 'min(connections, 2)', manyKeys: manyKeys(), manyWrappedKeys: manyWrappedKeys(), memoryRequests: memoryRequests() },
    minutes: Number(minutes.toFixed(2)),
    rows: bench.rows,
    ratios: rs,
    targets: vs,
    streams: { raw: streams.raw, service: streams.service },
    sdk: sdk?.rows,
    fuzz: fuzz ? { perFace: fuzz.perFace, passed: fuzz.passed, seconds: fuzz.seconds, seed: fuzz.seed, summary: fuzz.summary } : undefined,
    keys: keys.length ? keys : undefined,
    memory: mem ? { figures: mem.figures, samples: mem.samples } : undefined,
    failures: bench.failures,
    runs: bench.runs.map((r) => ({ ...r, result: { ...r.result, raw: r.result.raw.trim().split('\n') } })),
    serverLogs: bench.serverLogs,
  });
  const markdown = `Measured ${caption}; the whole run took ${minutes.toFixed(1)} minutes.\n\n![throughput and p99 by connections](bench/results/latest.svg)\n\n${render(bench.rows, rs, vs, streams, true, notes)}\n`;
  writeFile(path.join(dir, 'latest.md'), markdown);
  if (find(bench.rows, 'service', 64)) writeFile(path.join(dir, 'latest.svg'), chartSvg(bench.rows.filter((r) => (r.round ?? 1) === 1), [...CONNECTIONS], caption));
  // Only a complete run speaks for the project in its README.
  const complete = parts.size === SECTIONS.length && process.env.BENCH_README !== '0';
  if (complete && updateReadme(path.join(repoRoot(), 'README.md'), markdown)) log('updated the performance section of README.md');
  log(`\nwrote bench/results/latest.json, latest.md${find(bench.rows, 'service', 64) ? ', latest.svg' : ''} (${minutes.toFixed(1)} minutes)`);
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

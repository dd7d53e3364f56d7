import { ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import * as readline from 'node:readline';
import { PG_BASE, freshDatabase } from './postgres';

const ROOT = path.resolve(__dirname, '..', '..');
const BIN = path.join(ROOT, 'bin', 'kms.js');

export interface Credential {
  Uin: string;
  SecretId: string;
  SecretKey: string;
}

/**
 * Ports for test servers come from a range of their own for each Jest worker of each pass
 * (CI runs the SQLite and PostgreSQL passes side by side), below Linux's ephemeral range
 * (32768 and up) that outgoing connections take theirs from. A port the OS hands out with
 * listen(0) and that is closed again may be taken by anything before the service binds it,
 * and the readiness check would then see another test's service answer on it.
 */
const PORTS_PER_SLOT = 700;
const slot = (process.env.KMS_TEST_DATABASE_URL ? 8 : 0) + ((Number(process.env.JEST_WORKER_ID ?? 1) - 1) % 8);
let nextPort = Math.floor(Math.random() * PORTS_PER_SLOT);

/** A port of this process's range that nothing listens on now. */
export async function freePort(): Promise<number> {
  for (let tries = 0; tries < PORTS_PER_SLOT; tries++) {
    const port = 20_000 + slot * PORTS_PER_SLOT + (nextPort++ % PORTS_PER_SLOT);
    if (await bindable(port)) return port;
  }
  throw new Error(`no free port in the range of test slot ${slot}`);
}

function bindable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

export interface CliAnswer {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * One CLI process for the test file (support/cli-host.js), started at the first command and
 * ended by afterAll: it loads the CLI once, where a `kms` process a command would load it
 * every time (0.6 s of CPU against the 0.05 s the command takes).
 */
export class CliHost {
  private readonly proc: ChildProcess;
  private readonly waiting: Array<{ resolve: (a: CliAnswer) => void; reject: (e: Error) => void }> = [];
  private log = '';

  /** `script`: the host (another only in the host's own test). */
  constructor(script = path.join(__dirname, 'cli-host.js')) {
    this.proc = spawn(process.execPath, [script], { stdio: ['pipe', 'pipe', 'pipe'] });
    this.proc.stderr!.on('data', (b: Buffer) => this.keep(b.toString()));
    readline.createInterface({ input: this.proc.stdout! }).on('line', (line) => {
      let answer: CliAnswer;
      try {
        answer = JSON.parse(line) as CliAnswer;
      } catch {
        this.keep(`${line}\n`); // not an answer: something written outside a command
        return;
      }
      this.waiting.shift()?.resolve(answer);
    });
    const gone = (why: string) => {
      for (const w of this.waiting.splice(0)) w.reject(new Error(`the CLI host ${why}:\n${this.log}`));
    };
    this.proc.on('exit', (code, signal) => gone(`exited (${code ?? signal})`));
    this.proc.on('error', (e) => gone(`failed: ${e.message}`));
    // A write to a host that died fails with EPIPE; its exit rejects what waits.
    this.proc.stdin!.on('error', () => undefined);
  }

  /** The end of what the host wrote outside its answers, for the errors that name it. */
  private keep(text: string): void {
    this.log = (this.log + text).slice(-20_000);
  }

  run(argv: string[], env: Record<string, string>): Promise<CliAnswer> {
    return new Promise((resolve, reject) => {
      if (this.proc.exitCode !== null || this.proc.signalCode !== null) return reject(new Error(`the CLI host has exited:\n${this.log}`));
      this.waiting.push({ resolve, reject });
      this.proc.stdin!.write(JSON.stringify({ argv, env }) + '\n');
    });
  }

  close(): Promise<void> {
    if (this.proc.exitCode !== null || this.proc.signalCode !== null) return Promise.resolve();
    return new Promise((resolve) => {
      this.proc.once('exit', () => resolve());
      this.proc.stdin!.end();
    });
  }
}

let host: CliHost | undefined;
function cliHost(): CliHost {
  return (host ??= new CliHost());
}
// Jest's hooks, when a test file imports this module (not when a script does).
if (typeof afterAll === 'function') {
  afterAll(async () => {
    await host?.close();
    host = undefined;
  });
}

/**
 * Runs `kms ARGS` with `env` over the test's environment, in this test file's CLI host: its
 * exit code and what it wrote, whatever the code. Tests of the CLI as a process (bin/kms.js's
 * own exit, usage, configuration errors) spawn it instead (test/cli.e2e.test.ts).
 */
export function kmsCli(env: Record<string, string>, ...args: string[]): Promise<CliAnswer> {
  return cliHost().run(args, { ...process.env, ...env } as Record<string, string>);
}

/** What a `kms` process that ended printed (stdout and stderr together), and its exit code. */
export interface Exited {
  code: number | null;
  text: string;
}

/**
 * `kms ARGS` (`serve` unless `args` says otherwise) as a process of its own, for the starts and
 * commands expected to stop by themselves: its exit code and output. It gets a data folder of
 * its own unless `env` names one, port 0 and one worker unless `env` says otherwise; `watch`
 * sees the output as it comes (and may stop the process); it is killed after 30 s.
 */
export function runToExit(env: Record<string, string>, opts: { args?: string[]; watch?: (text: string, p: ChildProcess) => void } = {}): Promise<Exited> {
  const own = env.KMS_DATA_DIR ? undefined : fs.mkdtempSync(path.join(os.tmpdir(), 'kms-exit-'));
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [BIN, ...(opts.args ?? ['serve'])], { env: { ...process.env, KMS_PORT: '0', KMS_WORKERS: '1', ...(own && { KMS_DATA_DIR: own }), ...env } });
    let text = '';
    const add = (d: Buffer) => {
      text += d;
      opts.watch?.(text, p);
    };
    p.stdout!.on('data', add);
    p.stderr!.on('data', add);
    const kill = setTimeout(() => p.kill('SIGKILL'), 30_000);
    p.on('exit', (code) => {
      clearTimeout(kill);
      if (own) fs.rmSync(own, { recursive: true, force: true });
      resolve({ code, text });
    });
  });
}

export interface ServiceOptions {
  workers?: number;
  env?: Record<string, string>;
  /** Share another instance's data folder and database (a second instance). */
  shareWith?: KmsService;
  /** Use a fresh database on this PostgreSQL server whatever KMS_TEST_DATABASE_URL says. */
  pg?: string;
  /** The service serves HTTPS (KMS_TLS_* in env): the CA the test trusts, and a client certificate to present. */
  tls?: ClientTls;
}

export interface ClientTls {
  ca: Buffer;
  cert?: Buffer;
  key?: Buffer;
}

/** GET /_kms/health (HTTPS with `tls`) on a connection of its own; resolves to the status code. */
export function healthStatus(endpoint: string, tls?: ClientTls): Promise<number> {
  const [host, port] = endpoint.split(':');
  const opts = { host, port: Number(port), path: '/_kms/health', agent: false as const, ...tls };
  return new Promise((resolve, reject) => {
    const req = (tls ? https : http).get(opts, (res) => {
      res.resume();
      resolve(res.statusCode!);
    });
    req.on('error', reject);
  });
}

/**
 * The real service as a child process (`bin/kms.js serve`) on a free port, with its own
 * data folder (SoftHSM token + SQLite) or, when KMS_TEST_DATABASE_URL is set, its own
 * PostgreSQL database. Tests talk to it over HTTP only.
 */
export class KmsService {
  private proc: ChildProcess | null = null;
  private dropDb: (() => Promise<void>) | null = null;
  logs = '';
  port = 0;
  env: Record<string, string> = {};
  tls?: ClientTls;

  get endpoint(): string {
    return `127.0.0.1:${this.port}`;
  }

  static async start(opts: ServiceOptions = {}): Promise<KmsService> {
    const s = new KmsService();
    await s.init(opts);
    return s;
  }

  private async init(opts: ServiceOptions): Promise<void> {
    this.port = await freePort();
    if (opts.shareWith) {
      this.env = { ...opts.shareWith.env };
    } else {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kms-test-'));
      this.env = { KMS_DATA_DIR: dir, KMS_REGIONS: 'ap-guangzhou,ap-shanghai', KMS_LOG_LEVEL: 'warn' };
      const pg = opts.pg ?? PG_BASE;
      if (pg) {
        const db = await freshDatabase(pg);
        this.env.KMS_DATABASE_URL = db.url;
        // Three test files at a time share the server's 100 connections; 10 a process (the
        // default) let a few multi-instance files pass that.
        this.env.KMS_DATABASE_POOL = '4';
        this.dropDb = db.drop;
      }
    }
    Object.assign(this.env, opts.env ?? {});
    this.tls = opts.tls ?? opts.shareWith?.tls;
    this.env.KMS_PORT = String(this.port);
    this.env.KMS_WORKERS = String(opts.workers ?? 1);
    await this.launch();
  }

  async launch(): Promise<void> {
    this.proc = spawn(process.execPath, [BIN, 'serve'], { env: { ...process.env, ...this.env }, stdio: ['ignore', 'pipe', 'pipe'] });
    const collect = (b: Buffer) => {
      this.logs += b.toString();
    };
    this.proc.stdout!.on('data', collect);
    this.proc.stderr!.on('data', collect);
    const until = Date.now() + 30_000;
    while (Date.now() < until) {
      if (this.proc.exitCode !== null) throw new Error(`kms serve exited with ${this.proc.exitCode}:\n${this.logs}`);
      try {
        if ((await healthStatus(this.endpoint, this.tls)) === 200) return await this.allWorkersServing(until);
      } catch {
        /* not listening yet */
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`kms serve did not become healthy:\n${this.logs}`);
  }

  /**
   * Health answers once one worker listens; the cluster hands connections only to workers that
   * listen, so a test that spreads requests over workers waits for all of them: until the
   * instance's metrics count them all (loopback callers may scrape them), or `until`, or the
   * metrics are not served to the test (moved to an admin port, or refused).
   */
  private async allWorkersServing(until: number): Promise<void> {
    const workers = Number(this.env.KMS_WORKERS);
    if (workers < 2 || this.env.KMS_ADMIN_PORT) return;
    const [host, port] = this.endpoint.split(':');
    const serving = () =>
      new Promise<number>((resolve) => {
        const req = (this.tls ? https : http).get({ host, port: Number(port), path: '/_kms/metrics', agent: false, ...this.tls }, (res) => {
          let body = '';
          res.setEncoding('utf8').on('data', (d: string) => (body += d));
          res.on('end', () => resolve(res.statusCode === 200 ? Number(/^kms_workers_reporting (\d+)$/m.exec(body)?.[1] ?? 0) : -1));
        });
        req.on('error', () => resolve(0));
      });
    while (Date.now() < until) {
      const n = await serving();
      if (n < 0 || n >= workers) return;
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** The primary's process id. */
  get pid(): number {
    return this.proc!.pid!;
  }

  /** The service's processes: the primary and its workers (found through /proc, by parent pid). */
  processIds(): number[] {
    const children = fs
      .readdirSync('/proc')
      .filter((d) => /^\d+$/.test(d))
      .filter((d) => {
        try {
          const stat = fs.readFileSync(`/proc/${d}/stat`, 'latin1');
          return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === this.pid;
        } catch {
          return false; // gone meanwhile
        }
      })
      .map(Number);
    return [this.pid, ...children];
  }

  /**
   * Runs the CLI on this instance's data and returns its parsed JSON output; it fails, with
   * what the command wrote to stderr, unless the command exits 0. The command runs in this
   * test file's CLI host (cliHost), not in a process of its own.
   */
  async cli<T = unknown>(...args: string[]): Promise<T> {
    const r = await kmsCli(this.env, ...args);
    if (r.code !== 0) throw new Error(`kms ${args.join(' ')} exited with ${r.code}: ${r.stderr}`);
    return JSON.parse(r.stdout) as T;
  }

  createAccount(name = 'tester'): Promise<Credential> {
    return this.cli<Credential>('account', 'create', '--name', name);
  }

  async stopProcess(): Promise<void> {
    const p = this.proc;
    this.proc = null;
    if (!p || p.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      p.once('exit', () => resolve());
      p.kill('SIGTERM');
      setTimeout(() => p.kill('SIGKILL'), 8000).unref();
    });
  }

  async stop(): Promise<void> {
    await this.stopProcess();
    // An unexpected error's cause is in the service's log only: once a test of the file failed
    // (test/support/kms-test-environment.js), show it with the file's output.
    const unexpected = this.logs.split('\n').filter((l) => l.includes('"msg":"internal error"'));
    if ((globalThis as { kmsTestFailed?: boolean }).kmsTestFailed && unexpected.length > 0) console.error(`the service logged ${unexpected.length} internal error(s) (tests that provoke one expect it):\n${unexpected.join('\n')}`);
    if (this.dropDb) await this.dropDb();
  }
}

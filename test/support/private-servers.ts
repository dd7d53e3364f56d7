import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import Redis from 'ioredis';
import { freePort } from './kms-service';
import { reachable as postgresReachable } from './postgres';
import { reachable as redisReachable } from './redis';

/**
 * Database and Redis servers of the test's own, on free ports, that a fault test may stop and
 * start again without touching the machine's (shared with CI's other pass and with other
 * test files). Started as child processes from the machine's binaries; `stop` kills the
 * server (Redis) or asks it for a fast shutdown (PostgreSQL: clients are cut at once, what
 * was committed is kept), `start` brings it back on the same port and data.
 */
abstract class PrivateServer {
  protected proc: ChildProcess | null = null;
  logs = '';
  constructor(readonly port: number, readonly dir: string) {}

  protected abstract spawnServer(): ChildProcess;
  abstract reachable(): Promise<boolean>;

  async start(): Promise<void> {
    const p = this.spawnServer();
    this.proc = p;
    p.stdout?.on('data', (b: Buffer) => (this.logs += b.toString()));
    p.stderr?.on('data', (b: Buffer) => (this.logs += b.toString()));
    for (let i = 0; i < 150; i++) {
      if (p.exitCode !== null) break;
      if (await this.reachable()) return;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`${this.constructor.name} on port ${this.port} did not start:\n${this.logs}`);
  }

  /** Stops the server with `signal` and waits until its process is gone. */
  async stop(signal: NodeJS.Signals = 'SIGINT'): Promise<void> {
    const p = this.proc;
    this.proc = null;
    if (!p || p.exitCode !== null || p.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      p.once('exit', () => resolve());
      p.kill(signal);
      setTimeout(() => p.kill('SIGKILL'), 10_000).unref();
    });
  }

  async destroy(): Promise<void> {
    await this.stop();
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

/** The newest PostgreSQL server binaries Debian installed (postgresql-NN). */
function postgresBin(): string {
  const root = '/usr/lib/postgresql';
  const versions = fs.existsSync(root) ? fs.readdirSync(root).filter((v) => fs.existsSync(path.join(root, v, 'bin', 'initdb'))) : [];
  if (!versions.length) throw new Error('no PostgreSQL server binaries under /usr/lib/postgresql (Debian package postgresql)');
  return path.join(root, versions.sort((a, b) => Number(b) - Number(a))[0], 'bin');
}

/**
 * PostgreSQL refuses to run as root: a root test process runs it as the `postgres` user that
 * the Debian package made (in a temporary folder that user owns); any other user runs it as itself.
 */
function serverUser(): { uid?: number; gid?: number } {
  if (process.getuid?.() !== 0) return {};
  const line = fs.readFileSync('/etc/passwd', 'utf8').split('\n').find((l) => l.startsWith('postgres:'));
  if (!line) throw new Error('running as root, and no postgres user to run a private PostgreSQL as');
  const [, , uid, gid] = line.split(':');
  return { uid: Number(uid), gid: Number(gid) };
}

export class PrivatePostgres extends PrivateServer {
  private readonly user = serverUser();
  private readonly env = { ...process.env, PATH: `${postgresBin()}:${process.env.PATH}`, LC_ALL: 'C' };

  /** A new cluster (initdb) in a temporary folder, started. */
  static async create(): Promise<PrivatePostgres> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kms-pg-'));
    const s = new PrivatePostgres(await freePort(), dir);
    if (s.user.uid !== undefined) fs.chownSync(dir, s.user.uid, s.user.gid!);
    const r = spawnSync('initdb', ['-D', s.data, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--no-sync'], { ...s.user, env: s.env, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`initdb failed: ${r.error?.message ?? ''}${r.stderr}`);
    await s.start();
    return s;
  }

  private get data(): string {
    return path.join(this.dir, 'data');
  }

  /** A URL of the server's `postgres` database; a service gets a database of its own from `freshDatabase(url)`. */
  get url(): string {
    return `postgres://postgres@127.0.0.1:${this.port}/postgres`;
  }

  protected spawnServer(): ChildProcess {
    // fsync off: a fast shutdown writes everything anyway, and the test never cuts the machine's power.
    return spawn('postgres', ['-D', this.data, '-p', String(this.port), '-k', this.dir, '-c', 'listen_addresses=127.0.0.1', '-c', 'fsync=off', '-c', 'max_connections=60'], {
      ...this.user,
      env: this.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  }

  reachable(): Promise<boolean> {
    return postgresReachable(this.url);
  }
}

export class PrivateRedis extends PrivateServer {
  static async create(): Promise<PrivateRedis> {
    const s = new PrivateRedis(await freePort(), fs.mkdtempSync(path.join(os.tmpdir(), 'kms-redis-')));
    await s.start();
    return s;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  protected spawnServer(): ChildProcess {
    return spawn('redis-server', ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', this.dir], { stdio: ['ignore', 'pipe', 'pipe'] });
  }

  reachable(): Promise<boolean> {
    return redisReachable(this.url);
  }

  /**
   * How many scripts this Redis has run since it started (INFO commandstats: EVALSHA, and EVAL
   * when the script was not loaded yet): the rate counters' work. Unlike their keys, which
   * expire a window after the last accepted call, the count stays to be read after a load.
   */
  async scriptCalls(): Promise<number> {
    const r = new Redis(this.url, { maxRetriesPerRequest: 0 });
    try {
      const stats = await r.info('commandstats');
      return [...stats.matchAll(/^cmdstat_eval(?:sha)?:calls=(\d+)/gm)].reduce((n, m) => n + Number(m[1]), 0);
    } finally {
      r.disconnect();
    }
  }
}

import { ChildProcess, execFile, fork, spawn } from 'node:child_process';
import * as net from 'node:net';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { Client } from 'tencentcloud-sdk-nodejs/tencentcloud/services/kms/v20190118/kms_client';
import type { ReadyMessage } from '../servers/child-server';
import { LOOPBACK, REGION, SMALLEST_CREDENTIAL, SMALLEST_KEY_ID, repoRoot } from './constants';
import { removeDir, stopChild, tempDir, track } from './cleanup';
import { EncryptAnswer, EncryptTarget } from './request';

/** A server under test, running in its own process(es). */
export interface Server {
  name: string;
  /** The server's root process (its workers descend from it). */
  pid: number;
  target: EncryptTarget;
  /** Extra checks on one answer (the service decrypts it back). */
  checkAnswer(answer: EncryptAnswer, plaintextB64: string): Promise<void>;
  /** What the server wrote on stdout/stderr so far (the last 256 KB). */
  logs(): string;
  stop(): Promise<void>;
}

const LOG_LIMIT = 256 * 1024;

function collectLogs(child: ChildProcess): () => string {
  let logs = '';
  const add = (b: Buffer) => {
    logs += b.toString();
    if (logs.length > LOG_LIMIT) logs = logs.slice(-LOG_LIMIT);
  };
  child.stdout?.on('data', add);
  child.stderr?.on('data', add);
  return () => logs;
}

/** The environment without KMS_* variables of the caller, so only what the bench sets applies. */
function cleanEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('KMS_') && k !== 'SOFTHSM2_CONF') env[k] = v;
  return { ...env, ...extra };
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on('error', reject);
    s.listen(0, LOOPBACK, () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

const noCheck = async (): Promise<void> => undefined;

/** Forks one of bench/servers/*.js and waits for the port it reports. */
async function forkServer(name: string, script: string, env: Record<string, string>, onStop: () => void): Promise<Server> {
  const child = track(fork(path.join(__dirname, '..', 'servers', script), [], { env: cleanEnv(env), stdio: ['ignore', 'pipe', 'pipe', 'ipc'] }));
  const logs = collectLogs(child);
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${name} did not start within 30 s:\n${logs()}`)), 30_000);
    child.once('message', (m: ReadyMessage) => {
      clearTimeout(timer);
      resolve(m.port);
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited with ${code}:\n${logs()}`));
    });
  });
  return {
    name,
    pid: child.pid!,
    target: { endpoint: `${LOOPBACK}:${port}`, keyId: SMALLEST_KEY_ID, credential: SMALLEST_CREDENTIAL },
    checkAnswer: noCheck,
    logs,
    async stop() {
      await stopChild(child, 5000);
      onStop();
    },
  };
}

export function startConstantServer(): Promise<Server> {
  return forkServer('constant server', 'constant-server.js', {}, () => undefined);
}

/** The smallest server: one process, or a node:cluster of `processes` workers on one port. */
export async function startSmallestServer(processes = 1): Promise<Server> {
  const dir = tempDir('smallest');
  const env = { BENCH_TOKEN_DIR: dir, BENCH_PROCESSES: String(processes), BENCH_PORT: String(processes > 1 ? await freePort() : 0) };
  return forkServer(processes > 1 ? `smallest server x${processes}` : 'smallest server', 'smallest-server.js', env, () => removeDir(dir));
}

export function sdkClient(endpoint: string, cred: { SecretId: string; SecretKey: string }): Client {
  return new Client({
    credential: { secretId: cred.SecretId, secretKey: cred.SecretKey },
    region: REGION,
    profile: { httpProfile: { endpoint, protocol: 'http://', reqMethod: 'POST', reqTimeout: 30 } },
  });
}

async function waitHealthy(url: string, child: ChildProcess, logs: () => string): Promise<void> {
  const until = Date.now() + 60_000;
  while (Date.now() < until) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`kms serve exited (${child.exitCode ?? child.signalCode}):\n${logs()}`);
    try {
      if ((await fetch(url, { signal: AbortSignal.timeout(2000) })).status === 200) return;
    } catch {
      /* not listening yet */
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`kms serve did not answer 200 on ${url} within 60 s:\n${logs()}`);
}

export interface ServiceInfo {
  workers: number;
  dataDir: string;
  /** The primary's pid; it leads the process group of its workers. */
  pid: number;
  uin: string;
}

/**
 * The real service: `node bin/kms.js serve` (its own process group, so its cluster workers
 * can be stopped with it) on a fresh data folder, one account made with the CLI and one key
 * made with a signed CreateKey through the official SDK.
 */
export async function startService(workers: number, extraEnv: Record<string, string> = {}): Promise<Server & { info: ServiceInfo; sdk: Client }> {
  const root = repoRoot();
  const bin = path.join(root, 'bin', 'kms.js');
  const dataDir = tempDir('service');
  const port = await freePort();
  const env = cleanEnv({ KMS_DATA_DIR: dataDir, KMS_PORT: String(port), KMS_HOST: LOOPBACK, KMS_LOG_LEVEL: 'warn', KMS_WORKERS: String(workers), KMS_RATE_LIMITS: 'off', ...extraEnv });
  // BENCH_CPU_PROF=<folder>: every service process writes a V8 CPU profile there when it stops (see cpu-top.ts).
  const prof = process.env.BENCH_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${path.resolve(process.env.BENCH_CPU_PROF)}`] : [];
  const child = track(spawn(process.execPath, [...prof, bin, 'serve'], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true }), true);
  const logs = collectLogs(child);
  const stop = async () => {
    await stopChild(child, 8000, true);
    removeDir(dataDir);
  };
  try {
    const endpoint = `${LOOPBACK}:${port}`;
    await waitHealthy(`http://${endpoint}/_kms/health`, child, logs);
    const { stdout } = await promisify(execFile)(process.execPath, [bin, 'account', 'create', '--name', 'bench'], { cwd: root, env });
    const credential = JSON.parse(stdout) as { Uin: string; SecretId: string; SecretKey: string };
    if (!credential.SecretId || !credential.SecretKey) throw new Error(`kms account create printed no credential: ${stdout}`);
    const kms = sdkClient(endpoint, credential);
    const { KeyId } = await kms.CreateKey({ Alias: `bench-${Date.now()}`, Description: 'encrypt benchmark' });
    if (!KeyId) throw new Error('CreateKey answered no KeyId');
    return {
      name: 'service',
      pid: child.pid!,
      target: { endpoint, keyId: KeyId, credential },
      info: { workers, dataDir, pid: child.pid!, uin: credential.Uin },
      sdk: kms,
      async checkAnswer(answer, plaintextB64) {
        if (answer.KeyId !== KeyId) throw new Error(`service: Encrypt answered KeyId ${answer.KeyId}, not ${KeyId}`);
        const { Plaintext } = await kms.Decrypt({ CiphertextBlob: answer.CiphertextBlob });
        if (Plaintext !== plaintextB64) throw new Error('service: the CiphertextBlob does not decrypt to the plaintext sent');
      },
      logs,
      stop,
    };
  } catch (e) {
    await stop();
    throw e;
  }
}

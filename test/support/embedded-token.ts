import { execFile, execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';

/**
 * Direct access to a running service's embedded SoftHSM token (`<KMS_DATA_DIR>/softhsm`), for
 * tests that must look at or damage the token behind the service's back, with pkcs11js
 * (test/support/embedded-token-tool.js). Each call runs in a short node process: it finds the
 * token by label, logs in with the PIN the service wrote, does its work and finalizes, so the
 * test process holds no Cryptoki state (SoftHSM lets several processes share one token; the
 * service keeps its own sessions meanwhile). A process of its own is also the only way to
 * point SoftHSM at the token: it reads SOFTHSM2_CONF from the real environment, and Jest
 * gives tests a copy.
 */

const MODULE = ['/usr/lib/softhsm/libsofthsm2.so', '/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so', '/usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so'].find((p) => fs.existsSync(p));
const TOOL = path.join(__dirname, 'embedded-token-tool.js');
const LABEL = 'kms';

export type ObjectClass = 'privateKey' | 'secretKey';

export interface TokenObject {
  label: string;
  /** CKA_ID as text (the service's ids are ASCII). */
  id: string;
  /** The usage attributes that are true: decrypt, sign, unwrap, ... */
  usage: string[];
  sensitive: boolean;
  alwaysSensitive: boolean;
  extractable: boolean;
  neverExtractable: boolean;
}

/** The tool's arguments and environment for the token in `dataDir`. */
function toolRun(dataDir: string, args: string[]): [string[], { env: NodeJS.ProcessEnv }] {
  if (!MODULE) throw new Error('SoftHSM is not installed (scripts/setup.sh installs softhsm2)');
  const dir = path.join(dataDir, 'softhsm');
  return [[TOOL, MODULE, LABEL, path.join(dir, 'user.pin'), ...args], { env: { ...process.env, SOFTHSM2_CONF: path.join(dir, 'softhsm2.conf') } }];
}

function tool<T>(dataDir: string, ...args: string[]): T {
  const [argv, opts] = toolRun(dataDir, args);
  return JSON.parse(execFileSync(process.execPath, argv, { ...opts, stdio: ['ignore', 'pipe', 'pipe'] }).toString()) as T;
}

/** {@link tool} without blocking the test, for work that runs beside the service's. */
async function toolAsync<T>(dataDir: string, ...args: string[]): Promise<T> {
  const [argv, opts] = toolRun(dataDir, args);
  return JSON.parse((await promisify(execFile)(process.execPath, argv, opts)).stdout) as T;
}

/** The objects of one class on the service's token, with their protection attributes. */
export function tokenObjects(dataDir: string, cls: ObjectClass): TokenObject[] {
  return tool<TokenObject[]>(dataDir, 'list', cls);
}

/** Tries to wrap the object of this class with this CKA_ID under an untrusted key of its own, or under the token key named `wrapper` (a KEK). */
export function wrapTokenObject(dataDir: string, cls: ObjectClass, id: string, wrapper: 'untrusted' | string): { wrapped?: number; error?: string } {
  return tool(dataDir, 'wrap', cls, id, wrapper);
}

/** Unwraps a stored blob's AES key under `kek` into a readable key, as a PIN holder with the database could try. */
export function unwrapStoredBlob(dataDir: string, blob: string, kek: string): { value?: number; error?: string } {
  return tool(dataDir, 'unwrap', 'secretKey', blob, kek);
}

/** Makes a public token AES key named `id` that can unwrap (what a crash left of a KEK in earlier releases). */
export function plantPublicKey(dataDir: string, id: string): void {
  tool(dataDir, 'plant', 'secretKey', id);
}

/** Destroys the one object of this class with this CKA_ID, behind the service's back. */
export function destroyTokenObject(dataDir: string, cls: ObjectClass, id: string): void {
  tool(dataDir, 'destroy', cls, id);
}

/** Makes `count` keys labelled `label` behind the service's back, as another application sharing the token would. */
export function fillTokenObjects(dataDir: string, label: string, count: number): void {
  tool(dataDir, 'fill', 'secretKey', label, String(count));
}

/**
 * Destroys the keys {@link fillTokenObjects} made, one at a time, `pauseMs` apart, beside the
 * test, until none is left or `stop` is called (which says how many it destroyed and left);
 * `running` until then. Resolves once the first is destroyed.
 */
export async function drainTokenObjects(dataDir: string, label: string, pauseMs: number): Promise<{ running: () => boolean; stop: () => Promise<{ destroyed: number; left: number }> }> {
  const stopFile = path.join(dataDir, `drain-${process.pid}-${Date.now()}.stop`);
  let ended = false;
  const drained = toolAsync<{ destroyed: number; left: number }>(dataDir, 'drain', 'secretKey', label, String(pauseMs), stopFile).finally(() => (ended = true));
  while (!fs.existsSync(`${stopFile}.started`)) {
    if (ended) throw new Error(`the drain ended before it destroyed anything: ${JSON.stringify(await drained)}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  return {
    running: () => !ended,
    stop: async () => {
      fs.writeFileSync(stopFile, '');
      try {
        return await drained;
      } finally {
        for (const f of [stopFile, `${stopFile}.started`]) fs.rmSync(f, { force: true });
      }
    },
  };
}

/** Makes a persistent AES key with this CKA_ID and label, behind the service's back (what a crash could leave). */
export function createTokenObject(dataDir: string, id: string, label: string): void {
  tool(dataDir, 'create', 'secretKey', id, label);
}

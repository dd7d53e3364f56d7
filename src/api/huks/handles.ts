import cluster from 'node:cluster';
import * as crypto from 'node:crypto';
import * as os from 'node:os';

/**
 * A session handle is a JSON-safe integer (below 2^53) that names its owner:
 * instance tag (8 bits) | worker tag (8 bits) | random (37 bits). The instance tag is drawn
 * from the host name and the primary's process id, so it differs between instances with a
 * chance of 255 in 256; the worker tag is the cluster worker's id (0 without workers).
 */
const WORKER_SHIFT = 2 ** 37;
const INSTANCE_SHIFT = 2 ** 45;

const primaryPid = cluster.isWorker ? process.ppid : process.pid;
export const INSTANCE_TAG = crypto.createHash('sha256').update(`${os.hostname()}:${primaryPid}`).digest()[0];
export const WORKER_TAG = (cluster.worker?.id ?? 0) % 256;

export function newHandle(): number {
  const random = crypto.randomInt(1, 2 ** 37 - 1);
  return INSTANCE_TAG * INSTANCE_SHIFT + WORKER_TAG * WORKER_SHIFT + random;
}

export function ownerOf(handle: number): { instance: number; worker: number } {
  return { instance: Math.floor(handle / INSTANCE_SHIFT), worker: Math.floor(handle / WORKER_SHIFT) % 256 };
}

export const isHandle = (h: unknown): h is number => typeof h === 'number' && Number.isSafeInteger(h) && h > 0;

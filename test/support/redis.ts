import { execSync } from 'node:child_process';
import Redis from 'ioredis';

export const REDIS_URL = process.env.KMS_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

/** Whether a server answers at `url`. */
export async function reachable(url: string): Promise<boolean> {
  const r = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, connectTimeout: 1000, retryStrategy: () => null });
  r.on('error', () => undefined);
  try {
    await r.connect();
    return (await r.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    r.disconnect();
  }
}

/** Starts the machine's Redis if it is down, or says clearly why it cannot. */
export async function ensureRedis(url = REDIS_URL): Promise<void> {
  if (await reachable(url)) return;
  try {
    execSync('redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no --dir /var/lib/redis --logfile /var/log/redis/ci.log', { stdio: 'ignore' });
  } catch {
    /* reported below */
  }
  for (let i = 0; i < 20; i++) {
    if (await reachable(url)) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`Redis at ${url} is down and could not be started (tried redis-server); start it or set KMS_TEST_REDIS_URL`);
}

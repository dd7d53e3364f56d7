import * as os from 'node:os';
import { cleanup, cleanupOnSignals } from './lib/cleanup';
import { sdkBench } from './lib/sdk-throughput';
import { startService } from './lib/targets';

/** The Encryption SDK part of `npm run bench` alone: `node dist/bench/sdk-bench.js` (after a build). */
async function main(): Promise<number> {
  cleanupOnSignals();
  const workers = Math.min(os.availableParallelism(), 64);
  const r = await sdkBench(async () => {
    const s = await startService(workers);
    return { endpoint: s.target.endpoint, keyId: s.target.keyId, credential: s.target.credential, stop: () => s.stop() };
  }, (s) => void process.stdout.write(s + '\n'));
  return r.failures.length ? 1 : 0;
}

main()
  .then(async (code) => {
    await cleanup();
    process.exit(code);
  })
  .catch(async (e) => {
    process.stderr.write(`sdk bench: ${(e as Error).stack ?? e}\n`);
    await cleanup();
    process.exit(1);
  });

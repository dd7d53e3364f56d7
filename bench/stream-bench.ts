import * as os from 'node:os';
import { cleanup, cleanupOnSignals } from './lib/cleanup';
import { streamBench } from './lib/huks-stream';
import { startService } from './lib/targets';

/** The streamed part of `npm run bench` alone: `node dist/bench/stream-bench.js` (after a build). */
async function main(): Promise<number> {
  cleanupOnSignals();
  const workers = Math.min(os.availableParallelism(), 64);
  const rows = await streamBench(async () => {
    const s = await startService(workers);
    return { endpoint: s.target.endpoint, credential: s.target.credential, stop: () => s.stop() };
  }, (s) => void process.stdout.write(s + '\n'));
  return rows.failures.length ? 1 : 0;
}

main()
  .then(async (code) => {
    await cleanup();
    process.exit(code);
  })
  .catch(async (e) => {
    process.stderr.write(`stream bench: ${(e as Error).stack ?? e}\n`);
    await cleanup();
    process.exit(1);
  });

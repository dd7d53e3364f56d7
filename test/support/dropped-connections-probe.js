'use strict';
// Run by test/database-connections.test.ts in a process of its own, as what it checks is that
// the process survives: opens the service's database (dist/, as `kms serve` does) at argv[2],
// has the server end every new connection 1 ms after it is ready (idle_session_timeout), keeps
// the event loop busy so that "ready" and the server's FATAL arrive in one read, and makes the
// pool open connections again and again. Prints one JSON line: how the queries ended.
const { Client } = require('pg');
const { openDatabase } = require('../../dist/src/persistence/data-source');
const { isDatabaseUnavailable } = require('../../dist/src/persistence/database-errors');

async function main() {
  const url = process.argv[2];
  const ds = await openDatabase({ databaseUrl: url, dataDir: '/nonexistent', databasePool: 8 }, false);
  const admin = new Client({ connectionString: url });
  await admin.connect();
  await admin.query(`ALTER DATABASE ${new URL(url).pathname.slice(1)} SET idle_session_timeout = '1ms'`);
  await admin.end();
  // Every connection opened so far dies once idle; from here on, every new one right after it is ready.
  const busy = setInterval(() => {
    for (const until = Date.now() + 20; Date.now() < until; );
  }, 1);
  const outcome = { ok: 0, unavailable: 0, other: [] };
  for (let round = 0; round < Number(process.argv[3] ?? 30); round++) {
    await Promise.all(
      Array.from({ length: 8 }, () =>
        ds.query('SELECT 1').then(
          () => outcome.ok++,
          (e) => (isDatabaseUnavailable(e) ? outcome.unavailable++ : outcome.other.push(String(e))),
        ),
      ),
    );
  }
  clearInterval(busy);
  await ds.destroy().catch(() => undefined);
  process.stdout.write(JSON.stringify(outcome) + '\n');
}
main().catch((e) => {
  process.stderr.write(`probe failed: ${e.stack}\n`);
  process.exit(2);
});

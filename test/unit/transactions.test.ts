import 'reflect-metadata';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import Database from 'better-sqlite3';
import { DataSource, EntityManager } from 'typeorm';
import { openDatabase } from '../../src/persistence/data-source';
import { afterTransaction } from '../../src/persistence/transactions';

/** The transaction hooks on a real SQLite database (the service's own data source). */
let ds: DataSource;
beforeAll(async () => {
  ds = await openDatabase({ dataDir: fs.mkdtempSync(path.join(os.tmpdir(), 'kms-tx-')) }, true);
});
afterAll(() => ds.destroy());

it('runs hooks after the commit, not before', async () => {
  const seen: string[] = [];
  await ds.transaction(async (m) => {
    await m.query('SELECT 1');
    afterTransaction(m, () => void seen.push('hook'));
    seen.push('body');
  });
  seen.push('returned');
  expect(seen).toEqual(['body', 'hook', 'returned']);
});

it('runs hooks after a roll-back too, and the error still reaches the caller', async () => {
  const seen: string[] = [];
  await expect(
    ds.transaction(async (m) => {
      afterTransaction(m, () => void seen.push('hook'));
      throw new Error('refused');
    }),
  ).rejects.toThrow('refused');
  expect(seen).toEqual(['hook']);
});

it('resolves once the promises its hooks returned have, without holding the next transaction', async () => {
  const seen: string[] = [];
  let release!: () => void;
  const first = ds.transaction(async (m) => {
    afterTransaction(m, () => new Promise<void>((r) => (release = () => (seen.push('hook settled'), r()))));
  });
  // The next transaction runs while the first one's hook is still pending.
  await ds.transaction(async () => void seen.push('next ran'));
  release();
  await first;
  seen.push('first returned');
  expect(seen).toEqual(['next ran', 'hook settled', 'first returned']);
});

it('runs a hook at once outside a transaction, and after one has ended', async () => {
  const seen: string[] = [];
  afterTransaction(ds.manager, () => void seen.push('outside'));
  let kept: EntityManager | undefined;
  await ds.transaction(async (m) => {
    kept = m;
  });
  afterTransaction(kept!, () => void seen.push('after'));
  expect(seen).toEqual(['outside', 'after']);
});

it('begins SQLite transactions as the writer, so a read-then-write cannot lose to another process', async () => {
  // A second connection, as another worker would hold: while our transaction has only read,
  // it must already be unable to take the write lock.
  const other = new Database((ds.options as { database: string }).database, { timeout: 0 });
  try {
    await ds.transaction(async (m) => {
      await m.query('SELECT 1');
      expect(() => other.exec('BEGIN IMMEDIATE')).toThrow(/busy|locked/i);
    });
    other.exec('BEGIN IMMEDIATE');
    other.exec('ROLLBACK');
  } finally {
    other.close();
  }
});

it('finds no write outside ds.transaction in src/ (on SQLite it would join, and could roll back with, another flow)', () => {
  const files = fs.readdirSync('src', { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts'));
  const offending = files.flatMap((f) =>
    fs
      .readFileSync(path.join('src', f), 'utf8')
      .split('\n')
      .map((line, i) => ({ where: `src/${f}:${i + 1}`, line }))
      .filter(({ line }) => /(getRepository\([^)]*\)|\.manager)\.(insert|update|save|delete|remove|increment|decrement|upsert|softDelete)\(/.test(line) && !/transaction\(/.test(line)),
  );
  expect(offending).toEqual([]);
});

it('fails a SQLite write 5 s after it asked for its transaction, the time queued behind another one included', async () => {
  // Another connection holds the write lock; two transactions of this process ask at once. The
  // second queues behind the first, which waits its 5 s: it must not then wait 5 s of its own.
  const other = new Database((ds.options as { database: string }).database, { timeout: 0 });
  try {
    other.exec('BEGIN IMMEDIATE');
    const asked = Date.now();
    const tries = [0, 1].map(() => ds.transaction((m) => m.query('SELECT 1')).then(() => 'OK', (e: { driverError?: { code?: string } }) => ({ code: e.driverError?.code, ms: Date.now() - asked })));
    const [first, second] = await Promise.all(tries);
    expect(first).toEqual({ code: 'SQLITE_BUSY', ms: expect.any(Number) });
    expect(second).toEqual({ code: 'SQLITE_BUSY', ms: expect.any(Number) });
    expect((first as { ms: number }).ms).toBeGreaterThanOrEqual(4900);
    // One try after the first gave up, not a wait of its own (which made it 10 s).
    expect((second as { ms: number }).ms).toBeLessThan(7000);
    other.exec('ROLLBACK');
    // And a transaction asked for once the lock is free goes through.
    await expect(ds.transaction((m) => m.query('SELECT 1'))).resolves.toBeDefined();
  } finally {
    if (other.inTransaction) other.exec('ROLLBACK');
    other.close();
  }
}, 30_000);

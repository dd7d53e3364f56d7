import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import Database from 'better-sqlite3';
import { SqliteAuditWriter } from '../../src/audit/sqlite-audit-writer';

/** The audit trail's SQLite writer thread, on a real database file. */

let file: string;
let db: Database.Database;
let writer: SqliteAuditWriter;

beforeEach(() => {
  file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'kms-audit-writer-')), 'kms.sqlite');
  db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.exec('CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)');
  writer = new SqliteAuditWriter(file, 200);
});
afterEach(async () => {
  await writer.close();
  db.close();
});

const rows = () => db.prepare('SELECT id, v FROM t ORDER BY id').all();
/** A RowsStatement's lines: one JSON array a line, as RecordBatch keeps them. */
const rowLines = (rows: string[]): Uint8Array => new TextEncoder().encode(rows.join('\n'));

it('runs a batch of statements in one transaction, binding undefined as NULL', async () => {
  await writer.write([
    ['INSERT INTO t (id, v) VALUES (?, ?), (?, ?)', [1, 'a', 2, undefined]],
    ['UPDATE t SET v = ? WHERE id = ?', ['b', 2]],
  ]);
  expect(rows()).toEqual([{ id: 1, v: 'a' }, { id: 2, v: 'b' }]);
});

it('runs a single-row statement once per line of JSON, in order with the others, and takes the lines over', async () => {
  const lines = rowLines([JSON.stringify([1, 'a']), JSON.stringify([2, null]), JSON.stringify([3, 'line\nbreak'])]);
  await writer.write([{ sql: 'INSERT INTO t (id, v) VALUES (?, ?)', lines }, ['UPDATE t SET v = ? WHERE id = ?', ['b', 2]]]);
  expect(rows()).toEqual([{ id: 1, v: 'a' }, { id: 2, v: 'b' }, { id: 3, v: 'line\nbreak' }]);
  // Transferred, not copied: nothing of it stays with the sender.
  expect(lines.byteLength).toBe(0);
  // The statement prepared for the first batch serves the next.
  await writer.write([{ sql: 'INSERT INTO t (id, v) VALUES (?, ?)', lines: rowLines([JSON.stringify([4, 'd'])]) }]);
  expect(rows()).toHaveLength(4);
});

it('rolls back every line when one of them fails', async () => {
  await expect(writer.write([{ sql: 'INSERT INTO t (id, v) VALUES (?, ?)', lines: rowLines([JSON.stringify([1, 'a']), JSON.stringify([1, 'duplicate'])]) }])).rejects.toThrow(/UNIQUE constraint failed/);
  expect(rows()).toEqual([]);
});

it('rolls the whole batch back and rejects with the database error when a statement fails', async () => {
  await writer.write([['INSERT INTO t (id, v) VALUES (?, ?)', [1, 'kept']]]);
  await expect(
    writer.write([
      ['INSERT INTO t (id, v) VALUES (?, ?)', [2, 'rolled back']],
      ['INSERT INTO t (id, v) VALUES (?, ?)', [1, 'duplicate']],
    ]),
  ).rejects.toThrow(/UNIQUE constraint failed/);
  expect(rows()).toEqual([{ id: 1, v: 'kept' }]);
});

it('waits for a locked database in its thread, fails after busy_timeout, and writes once it is free', async () => {
  db.exec('BEGIN EXCLUSIVE');
  const started = Date.now();
  // The serving thread stays free meanwhile: a timer still fires while the write waits.
  let ticked = false;
  setTimeout(() => (ticked = true), 20);
  await expect(writer.write([['INSERT INTO t (id, v) VALUES (?, ?)', [1, 'x']]])).rejects.toThrow(/locked|busy/i);
  expect(ticked).toBe(true);
  expect(Date.now() - started).toBeGreaterThanOrEqual(150);
  db.exec('COMMIT');
  await writer.write([['INSERT INTO t (id, v) VALUES (?, ?)', [1, 'x']]]);
  expect(rows()).toEqual([{ id: 1, v: 'x' }]);
});

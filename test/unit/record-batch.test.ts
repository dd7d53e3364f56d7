import { AuditEvent, genesisHash, queuedRecord } from '../../src/audit/audit-event';
import { RecordBatch } from '../../src/audit/record-batch';

/** Records waiting to be written, held as lines of UTF-8 outside V8's heap. */

const event = (i: number, keys?: string): AuditEvent => ({ at: 1_764_000_000_000 + i, face: 'tencent', action: 'Encrypt', account: '100000000001', keys, result: 'Success', durationMs: 1 });

function fill(n: number, keys?: (i: number) => string) {
  const batch = new RecordBatch();
  const rows: string[] = [];
  let prev = genesisHash('w');
  for (let i = 1; i <= n; i++) {
    const r = queuedRecord('w', i, prev, event(i, keys?.(i)));
    prev = r.hash;
    rows.push(r.row);
    batch.add(r);
  }
  return { batch, rows, lastHash: prev };
}

it('gives back every row in order, past the buffer it starts with, whatever the characters', () => {
  // About 2 MiB in all, with rows of 8 KiB of non-ASCII text (3 bytes each in UTF-8) among them.
  const { batch, rows, lastHash } = fill(2000, (i) => (i % 100 === 0 ? '鍵'.repeat(2700) + '\u{1F511}' : `key-${i} "quoted"\n`));
  expect(batch.rows()).toEqual(rows);
  expect(new TextDecoder().decode(batch.lines())).toBe(rows.join('\n') + '\n');
  expect([batch.count, batch.firstAt, batch.lastSeq, batch.lastAt, batch.lastHash]).toEqual([2000, 1_764_000_000_001, 2000, 1_764_000_002_000, lastHash]);
});

it('hands out its lines as a copy, which the writer thread may take over, and keeps its own for a retry', () => {
  const { batch, rows } = fill(3);
  const lines = batch.lines();
  structuredClone(lines, { transfer: [lines.buffer as ArrayBuffer] });
  expect(lines.byteLength).toBe(0);
  expect(batch.rows()).toEqual(rows);
  expect(new TextDecoder().decode(batch.lines())).toBe(rows.join('\n') + '\n');
});

it('is empty before the first record', () => {
  const batch = new RecordBatch();
  expect(batch.rows()).toEqual([]);
  expect(batch.lines().byteLength).toBe(0);
  expect(batch.count).toBe(0);
});

it('once released, holds nothing, and its buffer serves the next batch without what it held', () => {
  const a = fill(1500, (i) => `old-${i}`);
  a.batch.release();
  expect([a.batch.count, a.batch.rows(), a.batch.lines().byteLength]).toEqual([0, [], 0]);
  const b = fill(3, (i) => `new-${i}`);
  expect(b.batch.rows()).toEqual(b.rows);
  expect(new TextDecoder().decode(b.batch.lines())).toBe(b.rows.join('\n') + '\n');
});

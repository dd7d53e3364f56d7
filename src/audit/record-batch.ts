import { QueuedRecord } from './audit-event';

/** What a batch's buffer starts with; it doubles as rows come (a full batch of 2,000 rows is some 700 KiB). */
const INITIAL_BYTES = 64 * 1024;
/**
 * Buffers of written batches, kept for the next ones. A buffer outlives its batch's wait in the
 * old generation, where V8 frees it only at a full collection, and the external memory of new
 * ones piling up there brought a full collection (6-10 ms paused) every two seconds or so.
 */
const spare: Buffer[] = [];
const SPARE_MAX = 4;
const SPARE_BYTES_MAX = 8 * 1024 * 1024;

/**
 * Chained records waiting to be written together, in the form the writer takes them: each
 * record's row (a JSON array, which never holds a raw newline) on a line of UTF-8, in a buffer
 * outside V8's heap. Kept as objects and strings, a busy process's records (up to FLUSH_MS of
 * them) lived through several young-generation collections, each of which copied them, and
 * were then promoted to the old generation, only to die there at the next write.
 */
export class RecordBatch {
  count = 0;
  firstAt = 0;
  lastSeq = 0;
  lastHash = '';
  lastAt = 0;
  private buf = spare.pop() ?? Buffer.allocUnsafe(INITIAL_BYTES);
  private used = 0;

  add(r: QueuedRecord): void {
    // UTF-8 takes at most 3 bytes for a UTF-16 unit; and the newline.
    const need = this.used + r.row.length * 3 + 1;
    if (need > this.buf.length) {
      const bigger = Buffer.allocUnsafe(Math.max(need, this.buf.length * 2));
      this.buf.copy(bigger, 0, 0, this.used);
      this.buf = bigger;
    }
    this.used += this.buf.write(r.row, this.used, 'utf8');
    this.buf[this.used++] = 0x0a;
    if (this.count++ === 0) this.firstAt = r.at;
    this.lastSeq = r.seq;
    this.lastHash = r.hash;
    this.lastAt = r.at;
  }

  /** The rows, one a line, in a buffer of their own (the writer thread takes it over; a retry needs the batch's). */
  lines(): Uint8Array {
    const out = new Uint8Array(this.used);
    out.set(this.buf.subarray(0, this.used));
    return out;
  }

  /** Once the batch is written: its buffer serves a later one, and this batch holds nothing more. */
  release(): void {
    if (spare.length < SPARE_MAX && this.buf.length <= SPARE_BYTES_MAX) spare.push(this.buf);
    this.buf = Buffer.alloc(0);
    this.used = 0;
    this.count = 0;
  }

  /** The rows as JSON texts, in order. */
  rows(): string[] {
    return this.count === 0 ? [] : this.buf.toString('utf8', 0, this.used - 1).split('\n');
  }
}

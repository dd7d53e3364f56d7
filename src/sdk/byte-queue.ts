/** Bytes that arrive in chunks and are read in pieces of known length. */
export class ByteQueue {
  private chunks: Buffer[] = [];
  length = 0;

  push(b: Buffer): void {
    if (b.length === 0) return;
    this.chunks.push(b);
    this.length += b.length;
  }

  /** The first `n` bytes (n <= length), without consuming them. */
  peek(n: number): Buffer {
    if (this.chunks.length > 0 && this.chunks[0].length >= n) return this.chunks[0].subarray(0, n);
    const parts: Buffer[] = [];
    let left = n;
    for (const c of this.chunks) {
      if (left <= 0) break;
      parts.push(c.subarray(0, Math.min(left, c.length)));
      left -= c.length;
    }
    return Buffer.concat(parts, n);
  }

  /** Takes the first `n` bytes (n <= length). */
  take(n: number): Buffer {
    const out = this.peek(n);
    this.length -= n;
    let left = n;
    while (left > 0) {
      const c = this.chunks[0];
      if (c.length <= left) {
        this.chunks.shift();
        left -= c.length;
      } else {
        this.chunks[0] = c.subarray(left);
        left = 0;
      }
    }
    return out;
  }
}

import { Injectable } from '@nestjs/common';
import * as fs from 'node:fs';

/**
 * The only source of "now" for key lifecycles and jobs, so that tests can move time.
 * KMS_TEST_CLOCK_FILE (tests only; the service warns at start when it is set) names a file
 * holding an offset in seconds that is added to the real time, re-read at most every
 * 100 ms. Signature checks use `wallSeconds`, never the offset: clients sign with their
 * own clocks.
 */
@Injectable()
export class Clock {
  private readonly file = process.env.KMS_TEST_CLOCK_FILE || undefined;
  private offsetMs = 0;
  private readAt = 0;

  nowMs(): number {
    if (this.file) this.refresh(this.file);
    return Date.now() + this.offsetMs;
  }
  nowSeconds(): number {
    return Math.floor(this.nowMs() / 1000);
  }
  wallSeconds(): number {
    return Math.floor(Date.now() / 1000);
  }

  private refresh(file: string): void {
    const t = Date.now();
    if (t - this.readAt < 100) return;
    this.readAt = t;
    try {
      const v = Number(fs.readFileSync(file, 'utf8').trim() || '0');
      this.offsetMs = Number.isFinite(v) ? v * 1000 : 0;
    } catch {
      this.offsetMs = 0;
    }
  }
}

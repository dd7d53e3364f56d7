import { Injectable } from '@nestjs/common';

/** The only source of "now" in the service, so tests can move time. */
@Injectable()
export class Clock {
  nowMs(): number {
    return Date.now();
  }
  nowSeconds(): number {
    return Math.floor(this.nowMs() / 1000);
  }
}

import * as fs from 'node:fs';

/** How long a service process may keep its reading of KMS_TEST_CLOCK_FILE (src/common/clock.ts: at most 100 ms), with a margin. */
const REREAD_MS = 150;

/**
 * Sets the offset, in seconds, of the test clock in `file` and waits until every process of
 * the service reads the new value at its next look at the time: a call made after this
 * resolves never runs on the old time (a key created just after a reset would otherwise get
 * a creation time days ahead).
 */
export async function setTestClock(file: string, seconds: number): Promise<void> {
  fs.writeFileSync(file, String(seconds));
  await new Promise((r) => setTimeout(r, REREAD_MS));
}

import { StepSignatures } from '../../src/api/huks/session-table';
import { RequestSignatureError } from '../../src/http/hmac-request-verifier';

/** A HUKS session's record of its steps' signatures: each serves once, and the record stays small however long the session runs. */

const use = (second: number, n: number) => ({ key: `sig-${second}-${n}`, expiresAt: (second + 901) * 1000 });
const fault = (f: () => void) => {
  try {
    f();
  } catch (e) {
    return e instanceof RequestSignatureError ? [e.fault, e.message] : e;
  }
  return undefined;
};

it('refuses a signature again, or one signed before the latest step, and keeps only the latest second\'s', () => {
  const s = new StepSignatures();
  // A long session: 15 minutes of steps, 20 a second; the record never holds more than one second's.
  let most = 0;
  for (let second = 1000; second < 1900; second++) {
    for (let n = 0; n < 20; n++) s.claim(use(second, n));
    most = Math.max(most, s.size);
  }
  expect([most, s.size]).toEqual([20, 20]);
  expect(fault(() => s.claim(use(1899, 3)))).toEqual(['replayed', expect.stringContaining('signed afresh')]);
  expect(fault(() => s.claim(use(1000, 0)))).toEqual(['replayed', expect.stringContaining('signed earlier than a step before it')]);
  expect(fault(() => s.claim(use(1898, 99)))).toEqual(['replayed', expect.stringContaining('signed earlier')]);
  // The same second, a new signature; then a later second starts a new record.
  s.claim(use(1899, 20));
  s.claim(use(1900, 0));
  expect(s.size).toBe(1);
});

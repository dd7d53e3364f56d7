import { MemoryFirstUseRegister, SWAP_WINDOW_MS, Use } from '../../src/http/first-use-register';

/** The register's rule, on a fake clock (the e2e tests drive it through the service). */

const T0 = 1_700_000_000_000;
const use = (key: string, tag: string, address = '10.0.0.1', expiresAt = T0 + 301_000): Use => ({ key, tag, address, expiresAt });

it('accepts a first use and identical retries, from anywhere and at any time until expiry', () => {
  const r = new MemoryFirstUseRegister();
  expect(r.claimNow(use('s', 'DescribeKey'), T0)).toBe('accepted');
  expect(r.claimNow(use('s', 'DescribeKey'), T0 + 100_000)).toBe('accepted');
  expect(r.claimNow(use('s', 'DescribeKey', '10.0.0.2'), T0 + 200_000)).toBe('accepted');
});

it('accepts another tag only from the first address within the swap window, and then keeps accepting it', () => {
  const r = new MemoryFirstUseRegister();
  r.claimNow(use('s', 'DisableKey'), T0);
  expect(r.claimNow(use('s', 'EnableKey', '10.0.0.2'), T0 + 10)).toBe('refused');
  expect(r.claimNow(use('s', 'EnableKey'), T0 + SWAP_WINDOW_MS)).toBe('accepted');
  expect(r.claimNow(use('s', 'EnableKey', '10.0.0.2'), T0 + 60_000)).toBe('accepted');
  expect(r.claimNow(use('s', 'DeleteKey'), T0 + SWAP_WINDOW_MS + 1)).toBe('refused');
});

it('keeps values apart by key', () => {
  const r = new MemoryFirstUseRegister();
  r.claimNow(use('a', 'DescribeKey'), T0);
  expect(r.claimNow(use('b', 'DisableKey', '10.0.0.2'), T0 + 10_000)).toBe('accepted');
});

it('forgets values when they expire, and refuses new ones while full', () => {
  const r = new MemoryFirstUseRegister(2);
  expect(r.claimNow(use('a', 'x', undefined, T0 + 5_000), T0)).toBe('accepted');
  expect(r.claimNow(use('b', 'x', undefined, T0 + 9_000), T0)).toBe('accepted');
  expect(r.claimNow(use('c', 'x'), T0)).toBe('full');
  // Known values are still answered while full.
  expect(r.claimNow(use('a', 'y', '10.0.0.2', T0 + 5_000), T0 + 1)).toBe('refused');
  expect(r.claimNow(use('c', 'x'), T0 + 5_000)).toBe('accepted');
  // 'a' was forgotten with its second: the key is new again.
  expect(r.claimNow(use('a', 'y', '10.0.0.2', T0 + 15_000), T0 + 9_000)).toBe('accepted');
});

it('judges every later use of an untagged value by the address and time of the first, and keeps none', () => {
  const r = new MemoryFirstUseRegister();
  expect(r.claimNow(use('s', ''), T0)).toBe('accepted');
  // The same request again: from the same address within the window only.
  expect(r.claimNow(use('s', ''), T0 + 10)).toBe('accepted');
  expect(r.claimNow(use('s', '', '10.0.0.2'), T0 + 20)).toBe('refused');
  expect(r.claimNow(use('s', ''), T0 + SWAP_WINDOW_MS)).toBe('accepted');
  expect(r.claimNow(use('s', ''), T0 + SWAP_WINDOW_MS + 1)).toBe('refused');
});

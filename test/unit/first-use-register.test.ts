import { FirstUseRegister, MemoryFirstUseRegister, RememberedRepeats, SWAP_WINDOW_MS, Use, Verdict } from '../../src/http/first-use-register';

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

describe('RememberedRepeats', () => {
  /** The shared register, counting the claims that reach it. */
  class Counted implements FirstUseRegister {
    readonly register = new MemoryFirstUseRegister();
    asked = 0;
    claim(u: Use): Promise<Verdict> {
      this.asked++;
      return this.register.claim(u);
    }
  }

  beforeEach(() => {
    jest.useFakeTimers({ now: T0 });
  });
  afterEach(() => {
    jest.useRealTimers();
  });

  it('answers a repeat of an accepted tag itself, from any address, and asks about anything else', async () => {
    const shared = new Counted();
    const r = new RememberedRepeats(shared);
    expect(await r.claim(use('s', 'Encrypt'))).toBe('accepted');
    expect(await r.claim(use('s', 'Encrypt'))).toBe('accepted');
    expect(await r.claim(use('s', 'Encrypt', '10.0.0.2'))).toBe('accepted');
    expect(shared.asked).toBe(1);
    // Another tag is the register's to judge, and so is its refusal, every time.
    jest.setSystemTime(T0 + SWAP_WINDOW_MS + 1);
    expect(await r.claim(use('s', 'Decrypt'))).toBe('refused');
    expect(await r.claim(use('s', 'Decrypt'))).toBe('refused');
    expect(shared.asked).toBe(3);
    // Untagged values are judged by address and time: never answered here.
    await r.claim(use('u', ''));
    await r.claim(use('u', ''));
    expect(shared.asked).toBe(5);
  });

  it('forgets a value when it expires', async () => {
    const shared = new Counted();
    const r = new RememberedRepeats(shared);
    await r.claim(use('s', 'Encrypt', undefined, T0 + 5_000));
    jest.setSystemTime(T0 + 4_999);
    await r.claim(use('s', 'Encrypt', undefined, T0 + 5_000));
    expect(shared.asked).toBe(1);
    jest.setSystemTime(T0 + 5_000);
    await r.claim(use('s', 'Encrypt', undefined, T0 + 5_000));
    expect(shared.asked).toBe(2);
  });

  it('remembers at most its maximum of values, and room comes back as they expire', async () => {
    const shared = new Counted();
    const r = new RememberedRepeats(shared, 1);
    await r.claim(use('a', 'x', undefined, T0 + 5_000));
    await r.claim(use('b', 'x'));
    await r.claim(use('a', 'x', undefined, T0 + 5_000));
    await r.claim(use('b', 'x'));
    expect(shared.asked).toBe(3);
    jest.setSystemTime(T0 + 6_000);
    await r.claim(use('b', 'x'));
    await r.claim(use('b', 'x'));
    expect(shared.asked).toBe(4);
  });
});

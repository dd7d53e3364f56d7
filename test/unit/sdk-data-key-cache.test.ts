import { DataKeyCache } from '../../src/sdk/data-key-cache';

/** The SDK's data-key cache: least recently used out first, one load per id at a time, keys zeroed when they leave. */

const entry = (byte: number) => ({ key: Buffer.alloc(16, byte), value: byte, createdAt: Date.now(), messages: 0, bytes: 0 });

it('evicts the least recently used entry beyond its capacity and zeroes its key', async () => {
  const c = new DataKeyCache<number>(2);
  const a = await c.load('a', async () => entry(1));
  await c.load('b', async () => entry(2));
  c.get('a'); // a is now the most recently used
  await c.load('c', async () => entry(3));
  expect([c.get('a')?.value, c.get('b'), c.get('c')?.value]).toEqual([1, undefined, 3]);
  expect(a.key.equals(Buffer.alloc(16, 1))).toBe(true);
  c.evict('a', a);
  expect([a.evicted, a.key.equals(Buffer.alloc(16))]).toEqual([true, true]);
  const c3 = c.get('c')!;
  c.clear();
  expect([c.size, c3.key.equals(Buffer.alloc(16))]).toEqual([0, true]);
});

it('shares one load among concurrent misses, and forgets a failed one', async () => {
  const c = new DataKeyCache<number>(4);
  let loads = 0;
  const load = async () => {
    loads++;
    await new Promise((r) => setImmediate(r));
    return entry(7);
  };
  const got = await Promise.all(Array.from({ length: 5 }, () => c.load('x', load)));
  expect([loads, new Set(got).size]).toEqual([1, 1]);
  await expect(c.load('y', () => Promise.reject(new Error('down')))).rejects.toThrow('down');
  expect((await c.load('y', async () => entry(9))).value).toBe(9);
});

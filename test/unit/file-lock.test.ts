import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { withFileLock } from '../../src/common/file-lock';

/** The lock file between processes (migrations, key-encryption-key set-up, storage jobs), on the real file system. */

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kms-lock-'));
const lockFile = (name: string) => path.join(dir, name);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

it('runs one holder at a time and removes the file after, even when the holder fails', async () => {
  const file = lockFile('one');
  const order: string[] = [];
  const holder = (name: string) =>
    withFileLock(file, async () => {
      order.push(`${name} in`);
      await sleep(100);
      order.push(`${name} out`);
    });
  await Promise.all([holder('a'), holder('b')]);
  expect(order).toEqual(['a in', 'a out', 'b in', 'b out']);
  await expect(withFileLock(file, () => Promise.reject(new Error('job failed')))).rejects.toThrow('job failed');
  expect(fs.existsSync(file)).toBe(false);
});

it('breaks a lock left by a crashed holder once it is stale', async () => {
  const file = lockFile('stale');
  fs.writeFileSync(file, '');
  const old = new Date(Date.now() - 1000);
  fs.utimesSync(file, old, old);
  expect(await withFileLock(file, async () => 'ran', 500)).toBe('ran');
});

it('keeps a lock fresh while its holder works, so that a long job is not taken for a crashed one', async () => {
  const file = lockFile('long');
  let waiting: Promise<number> | undefined;
  let released = 0;
  await withFileLock(
    file,
    async () => {
      // The other side takes a lock untouched for 300 ms for a crashed holder's.
      waiting = withFileLock(file, async () => Date.now(), 300);
      await sleep(400);
      released = Date.now();
    },
    200,
  );
  expect(await waiting).toBeGreaterThanOrEqual(released);
});

it('gives up with a clear error after twice the stale time when the holder keeps it fresh', async () => {
  const file = lockFile('held');
  const started = Date.now();
  await withFileLock(
    file,
    async () => {
      await expect(withFileLock(file, async () => 'never', 150)).rejects.toThrow(`could not take the lock ${file}`);
    },
    150,
  );
  expect(Date.now() - started).toBeGreaterThanOrEqual(300);
});

it('passes on an error other than an existing lock', async () => {
  await expect(withFileLock(path.join(dir, 'missing-folder', 'lock'), async () => 'never')).rejects.toThrow(/ENOENT/);
});

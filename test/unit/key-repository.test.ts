import 'reflect-metadata';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DataSource } from 'typeorm';
import { KeyBusyError } from '../../src/common/domain-errors';
import { KeyEntity } from '../../src/keys/key.entity';
import { KeyRepository, LOST, STATE, WRITE_ROUNDS } from '../../src/keys/key.repository';
import { ChangeFeed } from '../../src/persistence/change-feed';
import { openDatabase } from '../../src/persistence/data-source';

/** The CMK row's one owner on a real SQLite database: compare-and-set, the change it publishes, the bounded retry. */
let ds: DataSource;
let feed: ChangeFeed;
let repo: KeyRepository;
const published: string[] = [];
beforeAll(async () => {
  ds = await openDatabase({ dataDir: fs.mkdtempSync(path.join(os.tmpdir(), 'kms-keyrepo-')) }, true);
  feed = new ChangeFeed(ds);
  feed.on('key', (id) => published.push(id));
  repo = new KeyRepository(ds, feed);
});
afterAll(() => ds.destroy());

async function newKey(): Promise<KeyEntity> {
  const keyId = crypto.randomUUID();
  const key: KeyEntity = {
    keyId,
    uin: '100000000001',
    creatorUin: '100000000001',
    region: 'ap-guangzhou',
    alias: `k-${keyId}`,
    description: '',
    keyState: 'Enabled',
    keyUsage: 'ENCRYPT_DECRYPT',
    keySpec: 'AES_256',
    origin: 'KMS',
    standard: 'FIPS',
    owner: 'user',
    isDefault: false,
    createdAt: 1,
    deletionDate: 0,
    validTo: 0,
    rotationEnabled: false,
    rotateDays: 0,
    nextRotateTime: 0,
    lastRotateTime: 0,
    currentVersion: 0,
    materialCheck: null,
    updatedAt: 1,
  };
  await ds.transaction((m) => repo.insert(m, key, null, []));
  return key;
}

it('publishes the key on insert and on a write that wins, and writes nothing over a state it did not read', async () => {
  const key = await newKey();
  expect(published).toContain(key.keyId);
  published.length = 0;
  const read = await repo.existing(key.keyId);
  expect(await ds.transaction((m) => repo.compareAndSet(m, read, STATE, { keyState: 'Disabled', updatedAt: 2 }))).toBe(true);
  expect(published).toEqual([key.keyId]);
  // `read` still says Enabled: a second writer holding it loses, and tells no cache.
  expect(await ds.transaction((m) => repo.compareAndSet(m, read, STATE, { keyState: 'Archived', updatedAt: 3 }))).toBe(false);
  expect(published).toEqual([key.keyId]);
  expect((await repo.existing(key.keyId)).keyState).toBe('Disabled');
});

it('compares a null field as null', async () => {
  const key = await newKey();
  const read = await repo.existing(key.keyId);
  expect(await ds.transaction((m) => repo.compareAndSet(m, read, ['keyState', 'materialCheck'], { materialCheck: 'abc' }))).toBe(true);
  expect(await ds.transaction((m) => repo.compareAndSet(m, read, ['keyState', 'materialCheck'], { materialCheck: 'def' }))).toBe(false);
  expect((await repo.existing(key.keyId)).materialCheck).toBe('abc');
});

it('judges a lost round again on the row as it is now, and gives up after WRITE_ROUNDS with a busy-key error', async () => {
  const key = await newKey();
  const seen: string[] = [];
  const result = await repo.write(key.keyId, 'Update', async (k) => {
    seen.push(k.description);
    if (seen.length < 3) {
      // Another writer comes first.
      await ds.getRepository(KeyEntity).update({ keyId: k.keyId }, { description: `by another ${seen.length}` });
      return LOST;
    }
    return 'done';
  });
  expect(result).toBe('done');
  expect(seen).toEqual(['', 'by another 1', 'by another 2']);

  let rounds = 0;
  await expect(repo.write(key.keyId, 'Disable', async () => (rounds++, LOST))).rejects.toThrow(KeyBusyError);
  expect(rounds).toBe(WRITE_ROUNDS);
  await expect(repo.write(crypto.randomUUID(), 'Disable', async () => 'never')).rejects.toThrow(/no CMK/);
});

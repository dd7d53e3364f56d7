import { KmsService } from './support/kms-service';
import { b64, codeOf, kmsClient } from './support/tencent-client';

/**
 * Races between workers of one instance (4 processes sharing the token and the database):
 * the CMK quota holds exactly, concurrent writes on one key answer success or a documented
 * state error (never InternalError), and a batch that rolls back leaves no cache believing
 * in what it never committed. Runs on SQLite, and on PostgreSQL with KMS_TEST_DATABASE_URL.
 */

let kms: KmsService;
/** A second instance on the same database and data folder (token), as a second host would be. */
let second: KmsService;
beforeAll(async () => {
  kms = await KmsService.start({ workers: 4, env: { KMS_RATE_LIMITS: 'off', KMS_CMK_QUOTA: '3' } });
  second = await KmsService.start({ workers: 2, shareWith: kms });
});
afterAll(async () => {
  await second.stopProcess();
  await kms.stop();
});

type Audit = Array<{ label: string }>;
const cmkObjects = async (): Promise<number> => (await kms.cli<Audit>('token', 'audit')).filter((o) => o.label.startsWith('cmk ')).length;

it('holds the CMK quota exactly under 120 concurrent creates on two instances and leaves no token object for the refused ones', async () => {
  const before = await cmkObjects();
  const cred = await kms.createAccount('quota-race');
  const c = kmsClient(kms.endpoint, cred);
  const c2 = kmsClient(second.endpoint, cred);
  const codes = await Promise.all(Array.from({ length: 120 }, (_, i) => codeOf((i % 2 ? c : c2).CreateKey({ Alias: `q-${i}` }))));
  expect(codes.filter((x) => x === 'OK')).toHaveLength(3);
  expect(codes.filter((x) => x !== 'OK').every((x) => x === 'LimitExceeded.CmkLimitExceeded')).toBe(true);
  expect((await c.ListKeys({ Limit: 100 })).Keys).toHaveLength(3);
  expect((await cmkObjects()) - before).toBe(3);
  // Another account is not held back by the first one's quota.
  const other = kmsClient(kms.endpoint, await kms.createAccount('quota-other'));
  expect(await codeOf(other.CreateKey({ Alias: 'other' }))).toBe('OK');
});

it('answers success or a documented state error to concurrent state changes on one key', async () => {
  const c = kmsClient(kms.endpoint, await kms.createAccount('state-race'));
  const KeyId = (await c.CreateKey({ Alias: 'contended' })).KeyId!;
  const calls: Array<() => Promise<unknown>> = [
    () => c.DisableKey({ KeyId }),
    () => c.EnableKey({ KeyId }),
    () => c.DisableKeys({ KeyIds: [KeyId] }),
    () => c.EnableKeys({ KeyIds: [KeyId] }),
    () => c.ArchiveKey({ KeyId }),
    () => c.CancelKeyArchive({ KeyId }),
    () => c.BindCloudResource({ KeyId, ProductId: 'cbs', ResourceId: 'disk-1' }),
    () => c.UnbindCloudResource({ KeyId, ProductId: 'cbs', ResourceId: 'disk-1' }),
    () => c.ScheduleKeyDeletion({ KeyId, PendingWindowInDays: 7 }),
    () => c.CancelKeyDeletion({ KeyId }),
  ];
  const codes = await Promise.all(Array.from({ length: 300 }, (_, i) => codeOf(calls[i % calls.length]())));
  // Documented state refusals are ResourceUnavailable.* (CmkShouldBeDisabled, CmkNotPendingDelete,
  // CloudResourceBindingNotFound, ...) or FailedOperation.CmkUsedByCloudProduct.
  const unexpected = codes.filter((x) => !/^(OK|ResourceUnavailable\.\w+|FailedOperation\.CmkUsedByCloudProduct)$/.test(x));
  expect(unexpected).toEqual([]);
  expect(codes.filter((x) => x === 'OK').length).toBeGreaterThan(0);
});

it('keeps no cached state from a batch that rolled back', async () => {
  const c = kmsClient(kms.endpoint, await kms.createAccount('batch-rollback'));
  const free = (await c.CreateKey({ Alias: 'free' })).KeyId!;
  const bound = (await c.CreateKey({ Alias: 'bound' })).KeyId!;
  await c.BindCloudResource({ KeyId: bound, ProductId: 'cbs', ResourceId: 'disk-2' });
  // Each DisableKeys disables `free` inside its transaction, then meets the bound key and
  // rolls back; Encrypt calls meanwhile make every worker reload `free` from the database.
  let stop = false;
  const readers = Array.from({ length: 6 }, async () => {
    while (!stop) await codeOf(c.Encrypt({ KeyId: free, Plaintext: b64('x') }));
  });
  for (let i = 0; i < 40; i++) expect(await codeOf(c.DisableKeys({ KeyIds: [free, bound] }))).not.toBe('OK');
  stop = true;
  await Promise.all(readers);
  // `free` was never disabled: every worker must still encrypt with it, at once.
  const after = await Promise.all(Array.from({ length: 40 }, () => codeOf(c.Encrypt({ KeyId: free, Plaintext: b64('x') }))));
  expect(after.filter((x) => x !== 'OK')).toEqual([]);
  expect((await c.DescribeKey({ KeyId: free })).KeyMetadata!.KeyState).toBe('Enabled');
});

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { sessionKeys, storedLabels, WRAPPED } from './support/key-storage';
import { Credential, KmsService } from './support/kms-service';
import { b64, codeOf, kmsClient } from './support/tencent-client';
import { setTestClock } from './support/test-clock';

/** The symmetric key lifecycle of the 2019-01-18 API, its error codes, and the deletion scheduler on a test clock. */

let kms: KmsService;
let cred: Credential;
let clockFile: string;
const DAY = 86_400;

beforeAll(async () => {
  clockFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'kms-clock-')), 'offset');
  fs.writeFileSync(clockFile, '0');
  kms = await KmsService.start({ workers: 2, env: { KMS_TEST_CLOCK_FILE: clockFile, KMS_JOB_INTERVAL_MS: '100', KMS_LOG_LEVEL: 'info' } });
  cred = await kms.createAccount('lifecycle');
});
afterAll(() => kms.stop());

const c = () => kmsClient(kms.endpoint, cred);
const state = async (KeyId: string) => (await c().DescribeKey({ KeyId })).KeyMetadata!;
const newKey = async (Alias: string, extra: Record<string, unknown> = {}) => (await c().CreateKey({ Alias, ...extra })).KeyId!;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const NOT_SUPPORTED = 'ResourceUnavailable.CmkStateNotSupport';

describe('enable and disable', () => {
  it('EnableKeys and DisableKeys change every key, or none', async () => {
    const ids = [await newKey('batch-1'), await newKey('batch-2'), await newKey('batch-3')];
    await c().DisableKeys({ KeyIds: ids });
    for (const id of ids) expect((await state(id)).KeyState).toBe('Disabled');
    await c().EnableKeys({ KeyIds: ids });
    for (const id of ids) expect((await state(id)).KeyState).toBe('Enabled');
    const pending = await newKey('batch-ext', { Type: 2 });
    expect(await codeOf(c().DisableKeys({ KeyIds: [ids[0], pending] }))).toBe(NOT_SUPPORTED);
    expect((await state(ids[0])).KeyState).toBe('Enabled');
    expect(await codeOf(c().EnableKeys({ KeyIds: [ids[0], ids[0]] }))).toBe('InvalidParameterValue.DuplicatedKeyId');
    expect(await codeOf(c().EnableKeys({ KeyIds: [ids[0], 'nope'] }))).toBe('InvalidParameterValue.InvalidKeyId');
    expect(await codeOf(c().DisableKeys({ KeyIds: [ids[0], '00000000-0000-4000-8000-000000000000'] }))).toBe('ResourceUnavailable.CmkNotFound');
    expect(await codeOf(c().DisableKeys({ KeyIds: Array.from({ length: 101 }, (_, i) => `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`) }))).toBe('InvalidParameter');
  });
  it('EnableKey refuses a key awaiting import; EnableKey of an enabled key is a no-op', async () => {
    const ext = await newKey('enable-ext', { Type: 2 });
    expect(await codeOf(c().EnableKey({ KeyId: ext }))).toBe(NOT_SUPPORTED);
    const id = await newKey('enable-twice');
    await c().EnableKey({ KeyId: id });
    expect((await state(id)).KeyState).toBe('Enabled');
  });
});

describe('archive', () => {
  it('an archived key decrypts but does not encrypt, and comes back with CancelKeyArchive', async () => {
    const id = await newKey('archived');
    const blob = (await c().Encrypt({ KeyId: id, Plaintext: b64('old data') })).CiphertextBlob!;
    await c().ArchiveKey({ KeyId: id });
    expect((await state(id)).KeyState).toBe('Archived');
    expect(Buffer.from((await c().Decrypt({ CiphertextBlob: blob })).Plaintext!, 'base64').toString()).toBe('old data');
    expect(await codeOf(c().Encrypt({ KeyId: id, Plaintext: b64('x') }))).toBe(NOT_SUPPORTED);
    expect(await codeOf(c().ArchiveKey({ KeyId: id }))).toBe(NOT_SUPPORTED);
    expect(await codeOf(c().DisableKey({ KeyId: id }))).toBe(NOT_SUPPORTED);
    await c().CancelKeyArchive({ KeyId: id });
    expect((await state(id)).KeyState).toBe('Enabled');
    expect(await codeOf(c().CancelKeyArchive({ KeyId: id }))).toBe(NOT_SUPPORTED);
  });
  it('archives a disabled key, but not one awaiting import', async () => {
    const id = await newKey('archive-disabled');
    await c().DisableKey({ KeyId: id });
    await c().ArchiveKey({ KeyId: id });
    expect((await state(id)).KeyState).toBe('Archived');
    expect(await codeOf(c().ArchiveKey({ KeyId: await newKey('archive-ext', { Type: 2 }) }))).toBe(NOT_SUPPORTED);
  });
});

describe('cloud resource bindings', () => {
  it('a bound key cannot be disabled, archived or scheduled for deletion', async () => {
    const id = await newKey('bound');
    await c().BindCloudResource({ KeyId: id, ProductId: 'cbs', ResourceId: 'disk-1' });
    await c().BindCloudResource({ KeyId: id, ProductId: 'cbs', ResourceId: 'disk-1' });
    const USED = 'FailedOperation.CmkUsedByCloudProduct';
    expect(await codeOf(c().DisableKey({ KeyId: id }))).toBe(USED);
    expect(await codeOf(c().DisableKeys({ KeyIds: [id] }))).toBe(USED);
    expect(await codeOf(c().ArchiveKey({ KeyId: id }))).toBe(USED);
    expect(await codeOf(c().ScheduleKeyDeletion({ KeyId: id, PendingWindowInDays: 7 }))).toBe('ResourceUnavailable.CmkShouldBeDisabled');
    expect(await codeOf(c().UnbindCloudResource({ KeyId: id, ProductId: 'cbs', ResourceId: 'disk-2' }))).toBe('ResourceUnavailable.CloudResourceBindingNotFound');
    await c().UnbindCloudResource({ KeyId: id, ProductId: 'cbs', ResourceId: 'disk-1' });
    await c().DisableKey({ KeyId: id });
    // Bound while disabled: deletion is refused for the binding.
    await c().BindCloudResource({ KeyId: id, ProductId: 'cos', ResourceId: 'bucket' });
    expect(await codeOf(c().ScheduleKeyDeletion({ KeyId: id, PendingWindowInDays: 7 }))).toBe(USED);
  });
  it('refuses bindings of keys pending deletion or import, and bad parameters', async () => {
    const ext = await newKey('bind-ext', { Type: 2 });
    expect(await codeOf(c().BindCloudResource({ KeyId: ext, ProductId: 'cbs', ResourceId: 'r' }))).toBe(NOT_SUPPORTED);
    expect(await codeOf(c().BindCloudResource({ KeyId: ext, ProductId: 'bad product!', ResourceId: 'r' }))).toBe('InvalidParameter');
    expect(await codeOf(c().BindCloudResource({ KeyId: 'x', ProductId: 'cbs', ResourceId: 'r' }))).toBe('InvalidParameterValue.InvalidKeyId');
    expect(await codeOf(c().UnbindCloudResource({ KeyId: '00000000-0000-4000-8000-000000000000', ProductId: 'cbs', ResourceId: 'r' }))).toBe('ResourceUnavailable.CmkNotFound');
  });
});

describe('aliases and descriptions', () => {
  it('UpdateAlias and UpdateKeyDescription, with their errors', async () => {
    const id = await newKey('rename-me');
    await c().UpdateAlias({ KeyId: id, Alias: 'renamed' });
    await c().UpdateKeyDescription({ KeyId: id, Description: 'new words' });
    expect(await state(id)).toMatchObject({ Alias: 'renamed', Description: 'new words' });
    await newKey('taken');
    expect(await codeOf(c().UpdateAlias({ KeyId: id, Alias: 'taken' }))).toBe('InvalidParameterValue.AliasAlreadyExists');
    expect(await codeOf(c().UpdateAlias({ KeyId: id, Alias: 'bad alias' }))).toBe('InvalidParameterValue.InvalidAlias');
    expect(await codeOf(c().UpdateKeyDescription({ KeyId: id, Description: 'x'.repeat(1025) }))).toBe('InvalidParameter');
    // The alias is free again once renamed.
    expect(await codeOf(c().CreateKey({ Alias: 'rename-me' }))).toBe('OK');
  });
  it('refuses both while the key is pending deletion', async () => {
    const id = await newKey('doomed-names');
    await c().DisableKey({ KeyId: id });
    await c().ScheduleKeyDeletion({ KeyId: id, PendingWindowInDays: 30 });
    expect(await codeOf(c().UpdateAlias({ KeyId: id, Alias: 'other' }))).toBe(NOT_SUPPORTED);
    expect(await codeOf(c().UpdateKeyDescription({ KeyId: id, Description: 'd' }))).toBe(NOT_SUPPORTED);
    expect(await codeOf(c().EnableKey({ KeyId: id }))).toBe(NOT_SUPPORTED);
  });
});

describe('scheduled deletion', () => {
  it('validates the window and the state', async () => {
    const id = await newKey('window');
    expect(await codeOf(c().ScheduleKeyDeletion({ KeyId: id, PendingWindowInDays: 7 }))).toBe('ResourceUnavailable.CmkShouldBeDisabled');
    await c().DisableKey({ KeyId: id });
    for (const d of [6, 31, 0]) expect(await codeOf(c().ScheduleKeyDeletion({ KeyId: id, PendingWindowInDays: d }))).toBe('InvalidParameter.InvalidPendingWindowInDays');
    await c().ScheduleKeyDeletion({ KeyId: id, PendingWindowInDays: 7 });
    expect(await codeOf(c().ScheduleKeyDeletion({ KeyId: id, PendingWindowInDays: 7 }))).toBe(NOT_SUPPORTED);
    expect(await codeOf(c().CancelKeyDeletion({ KeyId: await newKey('not-pending') }))).toBe('ResourceUnavailable.CmkNotPendingDelete');
    const r = await c().CancelKeyDeletion({ KeyId: id });
    expect(r.KeyId).toBe(id);
    expect(await state(id)).toMatchObject({ KeyState: 'Disabled', DeletionDate: 0 });
  });

  it('deletes on the date, never before, and a cancelled deletion keeps the key', async () => {
    const doomed = await newKey('doomed');
    const saved = await newKey('saved');
    const ext = await newKey('doomed-ext', { Type: 2 });
    const blob = (await c().Encrypt({ KeyId: saved, Plaintext: b64('keep me') })).CiphertextBlob!;
    await c().Encrypt({ KeyId: doomed, Plaintext: b64('gone soon') });
    // Wrapped storage: both versions are unwrapped in a worker's cache until their keys change,
    // once the change feed has passed on the keys' creation (which drops unwrapped copies; on a
    // loaded machine its poll may come after the Encrypts): count them when the count holds.
    let cached = WRAPPED ? await sessionKeys(kms) : 0;
    for (let settled = false, i = 0; WRAPPED && !settled && i < 10; i++) {
      await sleep(300);
      await c().Encrypt({ KeyId: saved, Plaintext: b64('keep me') });
      await c().Encrypt({ KeyId: doomed, Plaintext: b64('gone soon') });
      const now = await sessionKeys(kms);
      settled = now === cached;
      cached = now;
    }
    for (const id of [doomed, saved]) await c().DisableKey({ KeyId: id });
    const t0 = Math.floor(Date.now() / 1000);
    const r = await c().ScheduleKeyDeletion({ KeyId: doomed, PendingWindowInDays: 7 });
    expect(Math.abs(r.DeletionDate! - (t0 + 7 * DAY))).toBeLessThan(5);
    expect((await state(doomed)).DeletionDate).toBe(r.DeletionDate);
    await c().ScheduleKeyDeletion({ KeyId: saved, PendingWindowInDays: 7 });
    await c().ScheduleKeyDeletion({ KeyId: ext, PendingWindowInDays: 7 });

    // Six days and 23 hours later: nothing happens.
    fs.writeFileSync(clockFile, String(7 * DAY - 3600));
    await sleep(600);
    expect((await state(doomed)).KeyState).toBe('PendingDelete');
    await c().CancelKeyDeletion({ KeyId: saved });
    expect((await state(ext)).KeyState).toBe('PendingDelete');

    // A day later the date has passed.
    fs.writeFileSync(clockFile, String(8 * DAY));
    const until = Date.now() + 5000;
    for (const id of [doomed, ext]) while (Date.now() < until && (await codeOf(c().DescribeKey({ KeyId: id }))) !== 'ResourceUnavailable.CmkNotFound') await sleep(100);
    expect(await codeOf(c().DescribeKey({ KeyId: doomed }))).toBe('ResourceUnavailable.CmkNotFound');
    expect(await codeOf(c().DescribeKey({ KeyId: ext }))).toBe('ResourceUnavailable.CmkNotFound');
    expect((await state(saved)).KeyState).toBe('Disabled');
    // Every worker dropped (and destroyed) both unwrapped copies, the deleted key's among them.
    if (WRAPPED) expect(await sessionKeys(kms)).toBe(cached - 2);
    await c().EnableKey({ KeyId: saved });
    expect(Buffer.from((await c().Decrypt({ CiphertextBlob: blob })).Plaintext!, 'base64').toString()).toBe('keep me');

    // The deleted key's material is gone (its token object, or its wrapped blob with its row).
    expect(await storedLabels(kms, doomed)).toEqual([]);
    expect(await storedLabels(kms, saved)).toEqual([`cmk ${saved} v1`]);
    expect(kms.logs.match(new RegExp(`"msg":"cmk deleted","keyId":"${doomed}"`, 'g'))).toHaveLength(1);
    await setTestClock(clockFile, 0);
  });
});

describe('ListKeyDetail', () => {
  let other: Credential;
  const ids: Record<string, string> = {};
  beforeAll(async () => {
    other = await kms.createAccount('lister');
    const o = kmsClient(kms.endpoint, other);
    ids.a = (await o.CreateKey({ Alias: 'app-alpha', Tags: [{ TagKey: 'env', TagValue: 'prod' }, { TagKey: 'team', TagValue: 'pay' }] })).KeyId!;
    await sleep(1100);
    ids.b = (await o.CreateKey({ Alias: 'app-beta', Tags: [{ TagKey: 'env', TagValue: 'dev' }] })).KeyId!;
    await sleep(1100);
    ids.c = (await o.CreateKey({ Alias: 'other_100x', Type: 2 })).KeyId!;
    ids.d = (await o.CreateKey({ Alias: 'disabled-one' })).KeyId!;
    await o.DisableKey({ KeyId: ids.d });
  });
  const list = async (q: Record<string, unknown>) => {
    const r = await kmsClient(kms.endpoint, other).ListKeyDetail(q);
    return { total: r.TotalCount, ids: r.KeyMetadatas!.map((m) => m.KeyId) };
  };

  it('filters by state, origin, alias, tags, and orders by creation time', async () => {
    expect((await list({ Limit: 200 })).total).toBe(4);
    expect((await list({ Limit: 200, OrderType: 1 })).ids[0]).toBe(ids.a);
    expect((await list({ Limit: 200 })).ids[(await list({ Limit: 200 })).ids.length - 1]).toBe(ids.a);
    expect((await list({ KeyState: 1 })).ids.sort()).toEqual([ids.a, ids.b].sort());
    expect((await list({ KeyState: 2 })).ids).toEqual([ids.d]);
    expect((await list({ KeyState: 4 })).ids).toEqual([ids.c]);
    expect((await list({ Origin: 'EXTERNAL' })).ids).toEqual([ids.c]);
    expect((await list({ Origin: 'KMS' })).total).toBe(3);
    expect((await list({ SearchKeyAlias: 'APP-' })).ids.sort()).toEqual([ids.a, ids.b].sort());
    expect((await list({ SearchKeyAlias: '%' })).ids).toEqual([]);
    expect((await list({ SearchKeyAlias: '100X' })).ids).toEqual([ids.c]);
    expect((await list({ SearchKeyAlias: '_' })).ids).toEqual([ids.c]);
    expect((await list({ SearchKeyAlias: ids.b.slice(0, 13) })).ids).toEqual([ids.b]);
    expect((await list({ TagFilters: [{ TagKey: 'env' }] })).ids.sort()).toEqual([ids.a, ids.b].sort());
    expect((await list({ TagFilters: [{ TagKey: 'env', TagValue: ['prod'] }] })).ids).toEqual([ids.a]);
    expect((await list({ TagFilters: [{ TagKey: 'env', TagValue: ['prod', 'dev'] }, { TagKey: 'team' }] })).ids).toEqual([ids.a]);
    expect((await list({ KeyUsage: 'ALL' })).total).toBe(4);
    expect((await list({ KeyUsage: 'ASYMMETRIC_DECRYPT_SM2' })).total).toBe(0);
    expect(await list({ Role: 1 })).toEqual({ total: 0, ids: [] });
    const page = await list({ Offset: 1, Limit: 2, OrderType: 1 });
    expect(page.total).toBe(4);
    expect(page.ids).toHaveLength(2);
    expect(page.ids[0]).toBe(ids.b);
  });

  it('answers InvalidParameter for bad filters', async () => {
    const o = kmsClient(kms.endpoint, other);
    for (const q of [{ Limit: 201 }, { Limit: 0 }, { Role: 2 }, { OrderType: 2 }, { KeyState: 9 }, { Origin: 'kms' }, { KeyUsage: 'TEA' }, { SearchKeyAlias: 'x'.repeat(129) }, { TagFilters: Array.from({ length: 11 }, () => ({ TagKey: 'k' })) }])
      expect(await codeOf(o.ListKeyDetail(q))).toBe('InvalidParameter');
    expect(await codeOf(o.ListKeyDetail({ TagFilters: [{ TagValue: ['x'] } as never] }))).toBe('MissingParameter');
  });
});

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Credential, KmsService } from './support/kms-service';
import { UNPLUGGABLE_PIN, UnpluggableToken, unpluggableToken } from './support/unpluggable-token';
import { storedLabels, storedVersions, WRAPPED } from './support/key-storage';
import { send, signTc3 } from './support/signer';
import { b64, codeOf, kmsClient } from './support/tencent-client';
import { setTestClock } from './support/test-clock';

/**
 * Key versions and rotation: EnableKeyRotation, DisableKeyRotation, GetKeyRotationStatus,
 * RotateKey, the rotation job on a test clock, KeyMetadata's rotation fields, the stored
 * material of each version (a token object, or a wrapped blob in wrapped storage mode), and
 * the documented error codes.
 */

let kms: KmsService;
let root: Credential;
let clockFile: string;
const DAY = 86_400;
const UNKNOWN = '00000000-0000-4000-8000-000000000000';
const NOT_SUPPORTED = 'ResourceUnavailable.CmkStateNotSupport';
const EXTERNAL = 'UnsupportedOperation.ExternalCmkCanNotRotate';

interface AuditEntry {
  id: string;
  label: string;
  sensitive: boolean;
  extractable: boolean;
  alwaysSensitive: boolean;
  neverExtractable: boolean;
  valueReadable: boolean;
}

beforeAll(async () => {
  clockFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'kms-clock-')), 'offset');
  fs.writeFileSync(clockFile, '0');
  kms = await KmsService.start({ workers: 2, env: { KMS_TEST_CLOCK_FILE: clockFile, KMS_JOB_INTERVAL_MS: '100', KMS_LOG_LEVEL: 'info', KMS_RATE_LIMITS: 'off' } });
  root = await kms.createAccount('rotation');
});
afterAll(() => kms.stop());

const c = () => kmsClient(kms.endpoint, root);
const meta = async (KeyId: string) => (await c().DescribeKey({ KeyId })).KeyMetadata!;
const newKey = async (Alias: string, extra: Record<string, unknown> = {}) => (await c().CreateKey({ Alias, ...extra })).KeyId!;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const now = () => Math.floor(Date.now() / 1000);
/** The key version a blob names (header bytes 19..22). */
const versionOf = (blob: string) => Buffer.from(blob, 'base64').readUInt32BE(19);
const encrypt = async (KeyId: string, text: string) => (await c().Encrypt({ KeyId, Plaintext: b64(text) })).CiphertextBlob!;
const decrypt = async (CiphertextBlob: string) => Buffer.from((await c().Decrypt({ CiphertextBlob })).Plaintext!, 'base64').toString();
/** Other workers drop their cached key within one change-feed poll (250 ms). */
const settle = () => sleep(400);
const raw = (cred: Credential, action: string, body: Record<string, unknown>) => send(signTc3(kms.endpoint, cred, { action, body: JSON.stringify(body) }));
/** Token mode: the key's token objects, each sensitive and never extractable. */
const tokenObjectsOf = async (keyId: string) => (await kms.cli<AuditEntry[]>('token', 'audit')).filter((o) => o.label.startsWith(`cmk ${keyId} v`));

describe('the rotation schedule', () => {
  it('a new key does not rotate, and KeyMetadata says so', async () => {
    const id = await newKey('fresh');
    expect((await c().GetKeyRotationStatus({ KeyId: id })).KeyRotationEnabled).toBe(false);
    expect(await meta(id)).toMatchObject({ KeyRotationEnabled: false, RotateDays: 0, NextRotateTime: 0, LastRotateTime: 0 });
  });

  it('EnableKeyRotation defaults to 365 days; the same period again keeps the date, a new one counts from now', async () => {
    const id = await newKey('scheduled');
    const t0 = now();
    await c().EnableKeyRotation({ KeyId: id });
    expect((await c().GetKeyRotationStatus({ KeyId: id })).KeyRotationEnabled).toBe(true);
    const first = await meta(id);
    expect(first).toMatchObject({ KeyRotationEnabled: true, RotateDays: 365, LastRotateTime: 0 });
    expect(Math.abs(first.NextRotateTime! - (t0 + 365 * DAY))).toBeLessThan(5);
    await sleep(1100);
    await c().EnableKeyRotation({ KeyId: id, RotateDays: 365 });
    expect((await meta(id)).NextRotateTime).toBe(first.NextRotateTime);
    const t1 = now();
    await c().EnableKeyRotation({ KeyId: id, RotateDays: 30 });
    const changed = await meta(id);
    expect(changed.RotateDays).toBe(30);
    expect(Math.abs(changed.NextRotateTime! - (t1 + 30 * DAY))).toBeLessThan(5);
    for (const days of [7, 365]) expect(await codeOf(c().EnableKeyRotation({ KeyId: id, RotateDays: days }))).toBe('OK');
  });

  it('DisableKeyRotation clears the schedule, and may be repeated', async () => {
    const id = await newKey('unscheduled');
    await c().EnableKeyRotation({ KeyId: id, RotateDays: 90 });
    await c().DisableKeyRotation({ KeyId: id });
    expect((await c().GetKeyRotationStatus({ KeyId: id })).KeyRotationEnabled).toBe(false);
    expect(await meta(id)).toMatchObject({ KeyRotationEnabled: false, RotateDays: 0, NextRotateTime: 0 });
    expect(await codeOf(c().DisableKeyRotation({ KeyId: id }))).toBe('OK');
  });

  it('a disabled key may have rotation turned on and off', async () => {
    const id = await newKey('disabled-schedule');
    await c().DisableKey({ KeyId: id });
    await c().EnableKeyRotation({ KeyId: id, RotateDays: 7 });
    expect((await meta(id)).KeyRotationEnabled).toBe(true);
    await c().DisableKeyRotation({ KeyId: id });
    expect((await meta(id)).KeyRotationEnabled).toBe(false);
  });
});

describe('RotateKey', () => {
  it('adds a version at once; new ciphertexts name it and those of every version still decrypt', async () => {
    const id = await newKey('manual');
    const blobs = [await encrypt(id, 'under v1')];
    const dataKey = await c().GenerateDataKey({ KeyId: id, KeySpec: 'AES_256' });
    expect(versionOf(blobs[0])).toBe(1);
    const tasks: string[] = [];
    for (let v = 2; v <= 4; v++) {
      const before = now();
      const r = await c().RotateKey({ KeyId: id });
      expect(r.TaskId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      tasks.push(r.TaskId!);
      const md = await meta(id);
      expect(md.LastRotateTime).toBeGreaterThanOrEqual(before);
      expect(md.LastRotateTime).toBeLessThanOrEqual(now());
      // Rotation is off: a manual rotation schedules nothing.
      expect(md).toMatchObject({ KeyRotationEnabled: false, NextRotateTime: 0, RotateDays: 0, KeyState: 'Enabled' });
      await settle();
      blobs.push(await encrypt(id, `under v${v}`));
      expect(versionOf(blobs[blobs.length - 1])).toBe(v);
      expect(versionOf((await c().GenerateDataKey({ KeyId: id, NumberOfBytes: 16 })).CiphertextBlob!)).toBe(v);
    }
    for (let v = 1; v <= 4; v++) expect(await decrypt(blobs[v - 1])).toBe(`under v${v}`);
    expect((await c().Decrypt({ CiphertextBlob: dataKey.CiphertextBlob! })).Plaintext).toBe(dataKey.Plaintext);

    // Each version is its own material (a sensitive, non-extractable token object, or a wrapped
    // blob and nothing in the token); TaskId is the new version's id.
    const objects = await storedVersions(kms, id);
    expect(objects.map((o) => o.label)).toEqual([1, 2, 3, 4].map((v) => `cmk ${id} v${v}`));
    expect(objects.slice(1).map((o) => o.id)).toEqual(tasks);
    expect(new Set(objects.map((o) => o.id)).size).toBe(4);
    if (!WRAPPED) for (const o of await tokenObjectsOf(id)) expect(o).toMatchObject({ sensitive: true, extractable: false, alwaysSensitive: true, neverExtractable: true, valueReadable: false });
    expect(kms.logs).toContain(`"msg":"cmk rotated","keyId":"${id}","version":4`);
  });

  it('with rotation on, moves the next scheduled rotation a full period from now', async () => {
    const id = await newKey('manual-scheduled');
    await c().EnableKeyRotation({ KeyId: id, RotateDays: 30 });
    await sleep(1100);
    const t = now();
    await c().RotateKey({ KeyId: id });
    const md = await meta(id);
    expect(md.KeyRotationEnabled).toBe(true);
    expect(md.NextRotateTime).toBe(md.LastRotateTime! + 30 * DAY);
    expect(md.LastRotateTime! - t).toBeLessThan(3);
  });

  it('concurrent rotations each add one version; the losers of each race destroy their material', async () => {
    const id = await newKey('contended');
    const blob = await encrypt(id, 'before the storm');
    const results = await Promise.all(Array.from({ length: 8 }, () => c().RotateKey({ KeyId: id })));
    expect(new Set(results.map((r) => r.TaskId)).size).toBe(8);
    await settle();
    expect(versionOf(await encrypt(id, 'after'))).toBe(9);
    const objects = await storedVersions(kms, id);
    expect(objects.map((o) => o.label)).toEqual(Array.from({ length: 9 }, (_, i) => `cmk ${id} v${i + 1}`));
    expect(objects.slice(1).map((o) => o.id).sort()).toEqual(results.map((r) => r.TaskId).sort());
    expect(kms.logs).toMatch(new RegExp(`"msg":"cmk rotation lost to a concurrent change; new material destroyed","keyId":"${id}"`));
    expect(await decrypt(blob)).toBe('before the storm');
  });
});

describe('another instance that has not yet heard of a rotation', () => {
  let other: KmsService;
  beforeAll(async () => {
    other = await KmsService.start({ shareWith: kms });
  });
  afterAll(() => other.stopProcess());

  it('decrypts and re-encrypts a blob of the new version at once', async () => {
    const id = await newKey('two-instances');
    const there = kmsClient(other.endpoint, root);
    // The other instance caches the key at version 1.
    await there.Encrypt({ KeyId: id, Plaintext: b64('warm') });
    for (let v = 2; v <= 6; v++) {
      await c().RotateKey({ KeyId: id });
      const blob = await encrypt(id, `fresh v${v}`);
      expect(versionOf(blob)).toBe(v);
      // Within one change-feed poll of the rotation: the other instance's record is older than the blob.
      expect(Buffer.from((await there.Decrypt({ CiphertextBlob: blob })).Plaintext!, 'base64').toString()).toBe(`fresh v${v}`);
      // Nor does it take the blob for an old one and seal it again under the version it knew.
      expect(await there.ReEncrypt({ CiphertextBlob: blob })).toMatchObject({ CiphertextBlob: blob, ReEncrypted: false });
    }
  });
});

describe('states and origins', () => {
  it('EXTERNAL keys never rotate', async () => {
    const id = await newKey('imported', { Type: 2 });
    expect(await codeOf(c().EnableKeyRotation({ KeyId: id }))).toBe(EXTERNAL);
    expect(await codeOf(c().RotateKey({ KeyId: id }))).toBe(EXTERNAL);
    expect(await codeOf(c().DisableKeyRotation({ KeyId: id }))).toBe('OK');
    expect((await c().GetKeyRotationStatus({ KeyId: id })).KeyRotationEnabled).toBe(false);
  });

  it('an archived key cannot start rotating or rotate, but can stop', async () => {
    const id = await newKey('archived-rotation');
    await c().EnableKeyRotation({ KeyId: id });
    await c().ArchiveKey({ KeyId: id });
    expect(await codeOf(c().EnableKeyRotation({ KeyId: id }))).toBe(NOT_SUPPORTED);
    expect(await codeOf(c().RotateKey({ KeyId: id }))).toBe(NOT_SUPPORTED);
    expect((await c().GetKeyRotationStatus({ KeyId: id })).KeyRotationEnabled).toBe(true);
    await c().DisableKeyRotation({ KeyId: id });
    expect((await meta(id)).KeyRotationEnabled).toBe(false);
  });

  it('RotateKey needs an Enabled key; a key pending deletion refuses every change to its rotation', async () => {
    const id = await newKey('disabled-rotation');
    await c().DisableKey({ KeyId: id });
    expect(await codeOf(c().RotateKey({ KeyId: id }))).toBe(NOT_SUPPORTED);
    await c().ScheduleKeyDeletion({ KeyId: id, PendingWindowInDays: 7 });
    for (const call of [c().EnableKeyRotation({ KeyId: id }), c().DisableKeyRotation({ KeyId: id }), c().RotateKey({ KeyId: id })]) expect(await codeOf(call)).toBe(NOT_SUPPORTED);
    expect((await c().GetKeyRotationStatus({ KeyId: id })).KeyRotationEnabled).toBe(false);
    await c().CancelKeyDeletion({ KeyId: id });
  });
});

describe('parameter and authorization errors', () => {
  it('RotateDays outside 7..365 is InvalidParameterValue; a RotateDays that is no integer is InvalidParameter', async () => {
    const id = await newKey('bad-days');
    for (const days of [0, 6, 366, 100000]) expect(await codeOf(c().EnableKeyRotation({ KeyId: id, RotateDays: days }))).toBe('InvalidParameterValue');
    for (const days of [-1, 7.5, '30', 'x']) expect((await raw(root, 'EnableKeyRotation', { KeyId: id, RotateDays: days })).code).toBe('InvalidParameter');
    expect((await meta(id)).KeyRotationEnabled).toBe(false);
  });

  const ACTIONS: Array<[string, (k: unknown) => Record<string, unknown>]> = [
    ['EnableKeyRotation', (k) => ({ KeyId: k, RotateDays: 30 })],
    ['DisableKeyRotation', (k) => ({ KeyId: k })],
    ['GetKeyRotationStatus', (k) => ({ KeyId: k })],
    ['RotateKey', (k) => ({ KeyId: k })],
  ];
  it.each(ACTIONS)('%s answers InvalidKeyId, CmkNotFound, InvalidParameter, MissingParameter, UnknownParameter and UnauthorizedOperation', async (action, params) => {
    expect((await raw(root, action, params('not-a-key-id'))).code).toBe('InvalidParameterValue.InvalidKeyId');
    expect((await raw(root, action, params(UNKNOWN))).code).toBe('ResourceUnavailable.CmkNotFound');
    expect((await raw(root, action, params(42))).code).toBe('InvalidParameter');
    expect((await raw(root, action, {})).code).toBe('MissingParameter');
    const keyId = await newKey(`authz-${action}`);
    expect((await raw(root, action, { ...params(keyId), MemberAccount: {} })).code).toBe('UnknownParameter');
    // Another account's key is not found; a sub-user without a policy is refused.
    const stranger = await kms.createAccount(`stranger-${action}`);
    expect((await raw(stranger, action, params(keyId))).code).toBe('ResourceUnavailable.CmkNotFound');
    const nobody = await kms.cli<Credential>('user', 'create', '--account', root.Uin, '--name', `nobody-${action}`);
    expect((await raw(nobody, action, params(keyId))).code).toBe('UnauthorizedOperation');
  });

  it('a sub-user may rotate exactly what its policy allows', async () => {
    const id = await newKey('policy-rotation');
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'kms-policy-')), 'p.json');
    fs.writeFileSync(file, JSON.stringify({ version: '2.0', statement: [{ effect: 'allow', action: ['name/kms:RotateKey', 'name/kms:GetKeyRotationStatus'], resource: '*' }] }));
    const user = await kms.cli<Credential>('user', 'create', '--account', root.Uin, '--name', 'rotator', '--policy', file);
    const u = kmsClient(kms.endpoint, user);
    expect(await codeOf(u.RotateKey({ KeyId: id }))).toBe('OK');
    expect(await codeOf(u.GetKeyRotationStatus({ KeyId: id }))).toBe('OK');
    expect(await codeOf(u.EnableKeyRotation({ KeyId: id }))).toBe('UnauthorizedOperation');
    expect(await codeOf(u.DisableKeyRotation({ KeyId: id }))).toBe('UnauthorizedOperation');
  });
});

describe('the rotation job', () => {
  afterAll(() => setTestClock(clockFile, 0));

  it('rotates Enabled keys when their time comes, once per period; a disabled key waits until it is enabled', async () => {
    const weekly = await newKey('weekly');
    const waiting = await newKey('waiting');
    const monthly = await newKey('monthly');
    const never = await newKey('never');
    const blobs = { weekly: await encrypt(weekly, 'w1'), waiting: await encrypt(waiting, 'd1') };
    const t0 = now();
    await c().EnableKeyRotation({ KeyId: weekly, RotateDays: 7 });
    await c().EnableKeyRotation({ KeyId: waiting, RotateDays: 7 });
    await c().EnableKeyRotation({ KeyId: monthly, RotateDays: 30 });
    await c().DisableKey({ KeyId: waiting });

    // Six days and 23 hours later: nothing is due.
    fs.writeFileSync(clockFile, String(7 * DAY - 3600));
    await sleep(700);
    for (const id of [weekly, waiting, monthly, never]) expect((await meta(id)).LastRotateTime).toBe(0);

    // Past the week: the weekly key rotates, exactly once, whichever of the two workers runs the job.
    fs.writeFileSync(clockFile, String(7 * DAY + 60));
    const rotated = async (id: string, after: number) => {
      const until = Date.now() + 10_000;
      while (Date.now() < until && (await meta(id)).LastRotateTime! <= after) await sleep(100);
      return meta(id);
    };
    const md = await rotated(weekly, 0);
    expect(md.LastRotateTime! - (t0 + 7 * DAY + 60)).toBeGreaterThanOrEqual(0);
    expect(md.LastRotateTime! - (now() + 7 * DAY + 60)).toBeLessThanOrEqual(0);
    expect(md.NextRotateTime).toBe(md.LastRotateTime! + 7 * DAY);
    await sleep(700);
    await settle();
    const w2 = await encrypt(weekly, 'w2');
    expect(versionOf(w2)).toBe(2);
    expect(await storedLabels(kms, weekly)).toEqual([`cmk ${weekly} v1`, `cmk ${weekly} v2`]);
    for (const id of [waiting, monthly, never]) expect((await meta(id)).LastRotateTime).toBe(0);
    expect(kms.logs).toContain(`"msg":"cmk rotated","keyId":"${weekly}","version":2`);

    // The disabled key, overdue, rotates once it is enabled again.
    await c().EnableKey({ KeyId: waiting });
    expect((await rotated(waiting, 0)).LastRotateTime).toBeGreaterThan(0);
    await settle();
    expect(versionOf(await encrypt(waiting, 'd2'))).toBe(2);

    // Another week: the weekly key rotates again; the monthly one is not due until day 30.
    fs.writeFileSync(clockFile, String(14 * DAY + 120));
    const again = await rotated(weekly, md.LastRotateTime!);
    expect(again.NextRotateTime).toBe(again.LastRotateTime! + 7 * DAY);
    await settle();
    expect(versionOf(await encrypt(weekly, 'w3'))).toBe(3);
    expect((await meta(monthly)).LastRotateTime).toBe(0);
    expect(await decrypt(blobs.weekly)).toBe('w1');
    expect(await decrypt(w2)).toBe('w2');
    expect(await decrypt(blobs.waiting)).toBe('d1');
  });
});

describe('a token that goes away during rotation', () => {
  let token: UnpluggableToken;
  let svc: KmsService;
  let cred: Credential;
  let clock: string;

  beforeAll(async () => {
    token = unpluggableToken('kms-rotate-unplug', 200);
    clock = path.join(token.dir, 'clock');
    fs.writeFileSync(clock, '0');
    svc = await KmsService.start({ env: { KMS_HSM_PROFILE: token.profile, KMS_HSM_PIN: UNPLUGGABLE_PIN, KMS_TEST_CLOCK_FILE: clock, KMS_JOB_INTERVAL_MS: '100', KMS_LOG_LEVEL: 'info', KMS_RATE_LIMITS: 'off' } });
    cred = await svc.createAccount('unplugged-rotation');
    // Let the service see the new credential's change event before it caches the credential,
    // so that requests need no token to authenticate while it is away.
    await sleep(600);
  });
  afterAll(async () => {
    await svc.stop();
    token.remove();
  });

  it('RotateKey answers ServiceTemporaryUnavailable and changes nothing; the job retries until the token is back', async () => {
    const u = kmsClient(svc.endpoint, cred);
    const id = (await u.CreateKey({ Alias: 'unplugged' })).KeyId!;
    await u.EnableKeyRotation({ KeyId: id, RotateDays: 7 });
    const before = (await u.DescribeKey({ KeyId: id })).KeyMetadata!;
    token.unplug();
    expect(await codeOf(u.RotateKey({ KeyId: id }))).toBe('UnsupportedOperation.ServiceTemporaryUnavailable');
    expect(await codeOf(u.GetKeyRotationStatus({ KeyId: id }))).toBe('OK');
    fs.writeFileSync(clock, String(8 * DAY));
    const tried = '"msg":"job failed; it will run again","job":"key-rotation"';
    for (let i = 0; i < 30 && !svc.logs.includes(tried); i++) await sleep(100);
    expect(svc.logs).toContain(tried);
    expect((await u.DescribeKey({ KeyId: id })).KeyMetadata).toEqual(before);

    token.plugIn();
    const until = Date.now() + 10_000;
    while (Date.now() < until && (await u.DescribeKey({ KeyId: id })).KeyMetadata!.LastRotateTime === 0) await sleep(100);
    const after = (await u.DescribeKey({ KeyId: id })).KeyMetadata!;
    expect(after.LastRotateTime).toBeGreaterThan(0);
    expect(after.NextRotateTime).toBe(after.LastRotateTime! + 7 * DAY);
    const blob = (await u.Encrypt({ KeyId: id, Plaintext: b64('back') })).CiphertextBlob!;
    expect(versionOf(blob)).toBe(2);
    expect(await storedLabels(svc, id)).toEqual([`cmk ${id} v1`, `cmk ${id} v2`]);
  });
});

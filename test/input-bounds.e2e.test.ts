import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { storedLabels } from './support/key-storage';
import { Credential, KmsService } from './support/kms-service';
import { b64, codeOf, kmsClient } from './support/tencent-client';
import { setTestClock } from './support/test-clock';

/**
 * Inputs that must not collide or pile up: encryption contexts that differ as JSON never
 * share an AAD (numbers keep their text, duplicate keys and nesting are refused), and a key
 * has at most KMS_MAX_KEY_VERSIONS versions, by RotateKey or by the rotation job.
 */

let kms: KmsService;
let root: Credential;
let clockFile: string;
const DAY = 86_400;
const MAX_VERSIONS = 3;
const VALUE = 'InvalidParameterValue';
const INVALID_CIPHERTEXT = 'InvalidParameterValue.InvalidCiphertext';

beforeAll(async () => {
  clockFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'kms-clock-')), 'offset');
  fs.writeFileSync(clockFile, '0');
  kms = await KmsService.start({
    workers: 2,
    env: { KMS_MAX_KEY_VERSIONS: String(MAX_VERSIONS), KMS_TEST_CLOCK_FILE: clockFile, KMS_JOB_INTERVAL_MS: '100', KMS_RATE_LIMITS: 'off' },
  });
  root = await kms.createAccount('bounds');
});
afterAll(() => kms.stop());

const c = () => kmsClient(kms.endpoint, root);
const newKey = async (Alias: string) => (await c().CreateKey({ Alias })).KeyId!;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** The key's versions with stored material (token objects, or wrapped blobs in wrapped storage mode). */
const versionsStored = (keyId: string) => storedLabels(kms, keyId);

describe('encryption context', () => {
  let keyId: string;
  beforeAll(async () => {
    keyId = await newKey('context');
  });

  it('keeps numbers as sent: 2^53+1 and 2^53 are different contexts', async () => {
    const blob = (await c().Encrypt({ KeyId: keyId, Plaintext: b64('n'), EncryptionContext: '{"id":9007199254740993}' })).CiphertextBlob!;
    expect(await codeOf(c().Decrypt({ CiphertextBlob: blob, EncryptionContext: '{"id":9007199254740992}' }))).toBe(INVALID_CIPHERTEXT);
    expect(await codeOf(c().Decrypt({ CiphertextBlob: blob, EncryptionContext: '{"id":"9007199254740993"}' }))).toBe(INVALID_CIPHERTEXT);
    expect(await codeOf(c().Decrypt({ CiphertextBlob: blob, EncryptionContext: '{"id":9007199254740993.0}' }))).toBe(INVALID_CIPHERTEXT);
    expect(Buffer.from((await c().Decrypt({ CiphertextBlob: blob, EncryptionContext: ' { "id" : 9007199254740993 } ' })).Plaintext!, 'base64').toString()).toBe('n');
    const other = (await c().ReEncrypt({ CiphertextBlob: blob, SourceEncryptionContext: '{"id":9007199254740993}', DestinationEncryptionContext: '{"id":9007199254740992}' })).CiphertextBlob!;
    expect(await codeOf(c().Decrypt({ CiphertextBlob: other, EncryptionContext: '{"id":9007199254740993}' }))).toBe(INVALID_CIPHERTEXT);
    expect(await codeOf(c().Decrypt({ CiphertextBlob: other, EncryptionContext: '{"id":9007199254740992}' }))).toBe('OK');
  });

  it('still opens string contexts whatever their key order and spacing', async () => {
    const blob = (await c().Encrypt({ KeyId: keyId, Plaintext: b64('s'), EncryptionContext: '{"table":"orders","row":"7"}' })).CiphertextBlob!;
    expect(await codeOf(c().Decrypt({ CiphertextBlob: blob, EncryptionContext: '{ "row": "7", "table": "orders" }' }))).toBe('OK');
  });

  it.each([
    ['a key given twice', '{"a":"1","a":"2"}'],
    ['a key given twice, once escaped', '{"a":"1","\\u0061":"1"}'],
    ['a nested object', '{"a":{"b":"c"}}'],
    ['an array', '{"a":["b"]}'],
  ])('refuses %s with InvalidParameterValue in every action that takes a context', async (_what, context) => {
    const blob = (await c().Encrypt({ KeyId: keyId, Plaintext: b64('x') })).CiphertextBlob!;
    const codes = await Promise.all([
      codeOf(c().Encrypt({ KeyId: keyId, Plaintext: b64('x'), EncryptionContext: context })),
      codeOf(c().Decrypt({ CiphertextBlob: blob, EncryptionContext: context })),
      codeOf(c().GenerateDataKey({ KeyId: keyId, KeySpec: 'AES_256', EncryptionContext: context })),
      codeOf(c().ReEncrypt({ CiphertextBlob: blob, SourceEncryptionContext: context })),
      codeOf(c().ReEncrypt({ CiphertextBlob: blob, DestinationEncryptionContext: context })),
    ]);
    expect(codes).toEqual([VALUE, VALUE, VALUE, VALUE, VALUE]);
  });

  it('names the problem in the message', async () => {
    const err = await c()
      .Encrypt({ KeyId: keyId, Plaintext: b64('x'), EncryptionContext: '{"a":"1","a":"2"}' })
      .then(() => null, (e: Error) => e.message);
    expect(err).toContain('EncryptionContext gives the key "a" more than once');
  });
});

describe('text the database stores', () => {
  it('refuses U+0000 in a description, tag or bound resource with InvalidParameter, on SQLite as on PostgreSQL', async () => {
    const c = kmsClient(kms.endpoint, root);
    const { KeyId } = await c.CreateKey({ Alias: 'nul-text' });
    const NUL = 'a\u0000b';
    expect(await codeOf(c.CreateKey({ Alias: 'nul-description', Description: NUL }))).toBe('InvalidParameter');
    expect(await codeOf(c.UpdateKeyDescription({ KeyId: KeyId!, Description: NUL }))).toBe('InvalidParameter');
    expect(await codeOf(c.CreateKey({ Alias: 'nul-tag', Tags: [{ TagKey: NUL, TagValue: 'v' }] }))).toBe('InvalidParameter');
    expect(await codeOf(c.CreateKey({ Alias: 'nul-tag-value', Tags: [{ TagKey: 'k', TagValue: NUL }] }))).toBe('InvalidParameter');
    expect(await codeOf(c.BindCloudResource({ KeyId: KeyId!, ProductId: 'cos', ResourceId: NUL }))).toBe('InvalidParameter');
    expect(await codeOf(c.UnbindCloudResource({ KeyId: KeyId!, ProductId: 'cos', ResourceId: NUL }))).toBe('InvalidParameter');
    expect(kms.logs).not.toMatch(/internal error/);
  });

  it('refuses U+0000 in text a search looks for with InvalidParameter, on SQLite as on PostgreSQL', async () => {
    const c = kmsClient(kms.endpoint, root);
    const NUL = 'a\u0000b';
    expect(await codeOf(c.ListKeyDetail({ SearchKeyAlias: NUL }))).toBe('InvalidParameter');
    expect(await codeOf(c.ListKeyDetail({ TagFilters: [{ TagKey: NUL }] }))).toBe('InvalidParameter');
    expect(await codeOf(c.ListKeyDetail({ TagFilters: [{ TagKey: 'k', TagValue: ['v', NUL] }] }))).toBe('InvalidParameter');
    expect(kms.logs).not.toMatch(/internal error/);
  });
});

describe('key versions', () => {
  it(`RotateKey stops at KMS_MAX_KEY_VERSIONS (${MAX_VERSIONS}) with LimitExceeded, and stores no material beyond it`, async () => {
    const id = await newKey('capped');
    for (let v = 2; v <= MAX_VERSIONS; v++) expect(await codeOf(c().RotateKey({ KeyId: id }))).toBe('OK');
    const refused = await c()
      .RotateKey({ KeyId: id })
      .then(() => null, (e: { code: string; message: string }) => e);
    expect(refused).toMatchObject({ code: 'LimitExceeded', message: expect.stringContaining(`KMS_MAX_KEY_VERSIONS=${MAX_VERSIONS}`) });
    expect(await versionsStored(id)).toHaveLength(MAX_VERSIONS);
    // The key stays usable, with its newest version.
    const blob = (await c().Encrypt({ KeyId: id, Plaintext: b64('still here') })).CiphertextBlob!;
    expect(Buffer.from(blob, 'base64').readUInt32BE(19)).toBe(MAX_VERSIONS);
  });

  it('holds under concurrent RotateKey calls, across workers', async () => {
    const id = await newKey('capped-concurrently');
    const codes = await Promise.all(Array.from({ length: 8 }, () => codeOf(c().RotateKey({ KeyId: id }))));
    expect(codes.filter((x) => x === 'OK')).toHaveLength(MAX_VERSIONS - 1);
    expect(codes.filter((x) => x !== 'OK').every((x) => x === 'LimitExceeded')).toBe(true);
    expect(await versionsStored(id)).toHaveLength(MAX_VERSIONS);
  });

  it('the rotation job skips a key at the limit, moves its next rotation a period on, and does not retry it every run', async () => {
    const full = await newKey('job-full');
    for (let v = 2; v <= MAX_VERSIONS; v++) await c().RotateKey({ KeyId: full });
    const room = await newKey('job-room');
    await c().EnableKeyRotation({ KeyId: full, RotateDays: 7 });
    await c().EnableKeyRotation({ KeyId: room, RotateDays: 7 });
    try {
      fs.writeFileSync(clockFile, String(7 * DAY + 60));
      const until = Date.now() + 10_000;
      while (Date.now() < until && (await versionsStored(room)).length < 2) await sleep(100);
      expect(await versionsStored(room)).toHaveLength(2);
      const skipped = () => kms.logs.split('\n').filter((l) => l.includes('scheduled cmk rotation skipped') && l.includes(full)).length;
      while (Date.now() < until && skipped() === 0) await sleep(100);
      // Many job runs later, still one warning, and no new version.
      await sleep(1500);
      expect(skipped()).toBe(1);
      expect(await versionsStored(full)).toHaveLength(MAX_VERSIONS);
      const md = (await c().DescribeKey({ KeyId: full })).KeyMetadata!;
      const shifted = Math.floor(Date.now() / 1000) + 7 * DAY + 60;
      expect(Math.abs(md.NextRotateTime! - (shifted + 7 * DAY))).toBeLessThan(30);
      expect(await codeOf(c().Encrypt({ KeyId: full, Plaintext: b64('x') }))).toBe('OK');
    } finally {
      await setTestClock(clockFile, 0);
    }
  });
});

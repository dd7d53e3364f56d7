import * as crypto from 'node:crypto';
import { Client } from 'tencentcloud-sdk-nodejs/tencentcloud/services/kms/v20190118/kms_client';
import { sql } from './support/audit-db';
import { plantPublicKey, unwrapStoredBlob, wrapTokenObject } from './support/embedded-token';
import { Credential, KmsService } from './support/kms-service';
import { b64, kmsClient } from './support/tencent-client';

/**
 * Wrapped key storage (KMS_KEY_STORAGE=wrapped, whatever the CI pass), on the embedded
 * SoftHSM token: CMK material lives as blobs wrapped by each region's KEK, the token holds
 * the same objects however many CMKs there are, material moves between the modes, and a
 * region's KEK rotates, resumably. The user PIN and the database together still open no
 * material: each KEK's unwrap template keeps what it unwraps sensitive.
 */

interface Audited {
  id: string;
  label: string;
  class: string;
  sensitive: boolean;
  extractable: boolean;
  neverExtractable: boolean;
  valueReadable: boolean;
  usages: string[];
  wrapWithTrusted: boolean;
  kek?: { region: string; generation: number; active: boolean; trusted: boolean; private: boolean; modifiable: boolean; wrapWithTrustedEnforced: boolean; unwrapTemplateEnforced: boolean };
  critical?: string;
}

let kms: KmsService;
let root: Credential;
let c: Client;
/** Ciphertexts made at the start, with their plaintexts: each must open after every change. */
const sealed: Array<{ blob: string; plaintext: string }> = [];
const aesKeys: string[] = [];
let signer: string;

beforeAll(async () => {
  kms = await KmsService.start({ env: { KMS_KEY_STORAGE: 'wrapped', KMS_RATE_LIMITS: 'off' } });
  root = await kms.createAccount('wrapped');
  c = kmsClient(kms.endpoint, root);
});
afterAll(() => kms.stop());

const audit = () => kms.cli<Audited[]>('token', 'audit');
const keks = (a: Audited[]) => a.filter((o) => o.kek).map((o) => o.id).sort();

async function allStillOpen(): Promise<void> {
  for (const s of sealed) expect(Buffer.from((await c.Decrypt({ CiphertextBlob: s.blob })).Plaintext!, 'base64').toString()).toBe(s.plaintext);
  for (const keyId of aesKeys.slice(0, 3)) {
    const enc = await c.Encrypt({ KeyId: keyId, Plaintext: b64('again') });
    expect(Buffer.from((await c.Decrypt({ CiphertextBlob: enc.CiphertextBlob! })).Plaintext!, 'base64').toString()).toBe('again');
  }
  const digest = crypto.createHash('sha256').update('m').digest();
  const sig = await c.SignByAsymmetricKey({ KeyId: signer, Algorithm: 'ECC_P256_R1', Message: b64(digest), MessageType: 'DIGEST' });
  expect((await c.VerifyByAsymmetricKey({ KeyId: signer, Algorithm: 'ECC_P256_R1', Message: b64(digest), MessageType: 'DIGEST', SignatureValue: sig.Signature! })).SignatureValid).toBe(true);
}

it('keeps the same objects in the token however many CMKs exist, and shows each KEK with its attributes', async () => {
  const before = await audit();
  expect(keks(before)).toEqual(['kms-kek:ap-guangzhou:1', 'kms-kek:ap-shanghai:1']);
  for (const o of before.filter((x) => x.kek)) {
    expect(o).toMatchObject({ class: 'secret', sensitive: true, extractable: false, neverExtractable: true, valueReadable: false, usages: ['WRAP', 'UNWRAP'] });
    expect(o.kek).toEqual({ region: o.id.split(':')[1], generation: 1, active: true, trusted: true, private: true, modifiable: false, wrapWithTrustedEnforced: true, unwrapTemplateEnforced: true });
  }
  for (let i = 0; i < 24; i++) {
    const KeyId = (await c.CreateKey({ Alias: `w-${i}` })).KeyId!;
    aesKeys.push(KeyId);
    const plaintext = `secret ${i}`;
    sealed.push({ plaintext, blob: (await c.Encrypt({ KeyId, Plaintext: b64(plaintext) })).CiphertextBlob! });
  }
  await c.RotateKey({ KeyId: aesKeys[0] });
  sealed.push({ plaintext: 'after rotation', blob: (await c.Encrypt({ KeyId: aesKeys[0], Plaintext: b64('after rotation') })).CiphertextBlob! });
  signer = (await c.CreateKey({ Alias: 'w-signer', KeyUsage: 'ASYMMETRIC_SIGN_VERIFY_ECC' })).KeyId!;
  await allStillOpen();
  expect((await audit()).map((o) => o.id).sort()).toEqual(before.map((o) => o.id).sort());
});

it('refuses, in the token, to unwrap a stored blob into a readable key, even for the holder of the user PIN', async () => {
  const [row] = await sql<{ wrapped: string }>(kms.env, 'SELECT wrapped FROM cmk_versions WHERE wrapped IS NOT NULL ORDER BY id LIMIT 1');
  const blob = Buffer.from(row.wrapped, 'base64');
  const kek = blob.subarray(5, 5 + blob[4]).toString();
  expect(unwrapStoredBlob(kms.env.KMS_DATA_DIR, row.wrapped, kek)).toEqual({ error: 'CKR_TEMPLATE_INCONSISTENT' });
});

it('moves CMKs into the token and back; there only a trusted key can wrap them, which the token enforces', async () => {
  // One more CMK, whose move back a crash will cut short after its row was written.
  const cutShort = (await c.CreateKey({ Alias: 'w-cut-short' })).KeyId!;
  const [{ id: cutId, wrapped: cutBlob }] = await sql<{ id: string; wrapped: string }>(kms.env, 'SELECT id, wrapped FROM cmk_versions WHERE key_id = $1', [cutShort]);
  const versions = aesKeys.length + 2;
  expect(await kms.cli('token', 'migrate', '--to', 'token')).toEqual({ To: 'token', Moved: versions + 1, Kept: 0 });
  await sql(kms.env, 'UPDATE cmk_versions SET wrapped = $1 WHERE id = $2', [cutBlob, cutId]);
  await allStillOpen();
  const moved = (await audit()).find((o) => o.label === `cmk ${aesKeys[1]} v1`)!;
  expect(moved).toMatchObject({ class: 'secret', sensitive: true, valueReadable: false, extractable: true, wrapWithTrusted: true });
  expect(wrapTokenObject(kms.env.KMS_DATA_DIR, 'secretKey', moved.id, 'untrusted')).toEqual({ error: 'CKR_KEY_NOT_WRAPPABLE' });
  expect(wrapTokenObject(kms.env.KMS_DATA_DIR, 'secretKey', moved.id, 'kms-kek:ap-guangzhou:1').wrapped).toBeGreaterThan(32);

  // A key made in token mode is never extractable: it stays in the token, and keeps working.
  kms.env.KMS_KEY_STORAGE = 'token';
  const tokenBorn = await kms.cli<{ KeyId: string }>('key', 'create-default', '--account', root.Uin, '--region', 'ap-guangzhou', '--alias', 'svc/default');
  kms.env.KMS_KEY_STORAGE = 'wrapped';
  expect(await kms.cli('token', 'migrate', '--to', 'wrapped')).toEqual({ To: 'wrapped', Moved: versions, Kept: 1 });
  const left = (await audit()).filter((o) => o.label.startsWith('cmk '));
  expect(left.map((o) => o.label)).toEqual([`cmk ${tokenBorn.KeyId} v1`]);
  expect(left[0]).toMatchObject({ extractable: false, neverExtractable: true });
  const enc = await c.Encrypt({ KeyId: tokenBorn.KeyId, Plaintext: b64('mixed') });
  expect(Buffer.from((await c.Decrypt({ CiphertextBlob: enc.CiphertextBlob! })).Plaintext!, 'base64').toString()).toBe('mixed');
  await allStillOpen();
});

it("rotates a region's KEK, keeping the old one until --retire; a public KEK a crash left is critical, then destroyed", async () => {
  const first = await kms.cli<Record<string, unknown>>('kek', 'rotate', '--region', 'ap-guangzhou');
  expect(first).toEqual({ Region: 'ap-guangzhou', ActiveKek: 'kms-kek:ap-guangzhou:2', KeptKeks: ['kms-kek:ap-guangzhou:1'], RetiredKeks: [], Rewrapped: expect.any(Number) });
  expect(first.Rewrapped).toBeGreaterThan(0);
  const halfway = await audit();
  expect(halfway.filter((o) => o.kek?.region === 'ap-guangzhou').map((o) => [o.id, o.kek!.active, o.kek!.unwrapTemplateEnforced])).toEqual(
    expect.arrayContaining([
      ['kms-kek:ap-guangzhou:1', false, true],
      ['kms-kek:ap-guangzhou:2', true, true],
    ]),
  );
  await allStillOpen();

  // Every command in wrapped storage destroys such a key at start: the audit sees it in token mode.
  plantPublicKey(kms.env.KMS_DATA_DIR, 'kms-kek-pending:ap-guangzhou:3');
  kms.env.KMS_KEY_STORAGE = 'token';
  expect((await audit()).find((o) => o.id === 'kms-kek-pending:ap-guangzhou:3')?.critical).toMatch(/a session without a login can unwrap/);
  kms.env.KMS_KEY_STORAGE = 'wrapped';
  // Run again, it resumes (no third generation) and, with --retire, ends the rotation.
  expect(await kms.cli('kek', 'rotate', '--region', 'ap-guangzhou', '--retire')).toEqual({ Region: 'ap-guangzhou', ActiveKek: 'kms-kek:ap-guangzhou:2', KeptKeks: [], RetiredKeks: ['kms-kek:ap-guangzhou:1'], Rewrapped: 0 });
  const after = await audit();
  expect(keks(after)).toEqual(['kms-kek:ap-guangzhou:2', 'kms-kek:ap-shanghai:1']);
  expect(after.filter((o) => o.critical)).toEqual([]);
  await allStillOpen();
  expect(await kms.cli('kek', 'rotate', '--region', 'ap-nowhere').catch((e: Error) => e.message)).toMatch(/region ap-nowhere has no key-encryption key/);
});

import * as crypto from 'node:crypto';
import { storedLabels } from './support/key-storage';
import { Credential, KmsService } from './support/kms-service';
import { codeOf, kmsClient } from './support/tencent-client';

/**
 * An ImportToken is used up by a successful ImportKeyMaterial, and by the fifth failed one,
 * which also destroys its wrapping key; every way the material can be wrong answers the same
 * code and message, and leaves no object in the token (counted with `kms token audit`) and no
 * stored material.
 */

let kms: KmsService;
let root: Credential;
const EXPIRED = 'ResourceUnavailable.TokenExpired';
const DECRYPT = 'InvalidParameter.DecryptMaterialError';
const OAEP = { padding: crypto.constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha1' };

interface AuditEntry {
  id: string;
  label: string;
  class: 'secret' | 'private';
}

beforeAll(async () => {
  kms = await KmsService.start({ workers: 2, env: { KMS_RATE_LIMITS: 'off' } });
  root = await kms.createAccount('import-token');
});
afterAll(() => kms.stop());

const c = () => kmsClient(kms.endpoint, root);
const newKey = async (Alias: string) => (await c().CreateKey({ Alias, Type: 2 })).KeyId!;
const audit = () => kms.cli<AuditEntry[]>('token', 'audit');
const wrappingKeys = async (keyId: string) => (await audit()).filter((o) => o.class === 'private' && o.label === `kms import ${keyId}`);

interface Params {
  keyId: string;
  token: string;
  publicKey: crypto.KeyObject;
}
async function params(keyId: string): Promise<Params> {
  const p = await c().GetParametersForImport({ KeyId: keyId, WrappingAlgorithm: 'RSAES_OAEP_SHA_1', WrappingKeySpec: 'RSA_2048' });
  return { keyId, token: p.ImportToken!, publicKey: crypto.createPublicKey({ key: Buffer.from(p.PublicKey!, 'base64'), format: 'der', type: 'spki' }) };
}
const wrap = (p: Params, material: Buffer, opts: crypto.RsaPublicKey | object = OAEP) => crypto.publicEncrypt({ key: p.publicKey, ...opts }, material).toString('base64');
const importWith = (p: Params, EncryptedKeyMaterial: string) => c().ImportKeyMaterial({ KeyId: p.keyId, ImportToken: p.token, EncryptedKeyMaterial });
async function failure(call: Promise<unknown>): Promise<{ code: string; message: string }> {
  try {
    await call;
  } catch (e) {
    return { code: (e as { code: string }).code, message: (e as Error).message };
  }
  return { code: 'OK', message: '' };
}

/** The five ways material can be wrong, each with its own ImportToken-independent bytes. */
function wrongMaterials(p: Params, otherKey: crypto.KeyObject): Array<[string, string]> {
  return [
    ['of the wrong length', crypto.randomBytes(100).toString('base64')],
    ['garbage of the right length', crypto.randomBytes(256).toString('base64')],
    ['encrypted to another key', crypto.publicEncrypt({ key: otherKey, ...OAEP }, crypto.randomBytes(32)).toString('base64')],
    ['with the wrong padding', wrap(p, crypto.randomBytes(32), { padding: crypto.constants.RSA_PKCS1_PADDING })],
    ['decrypting to 128-bit material', wrap(p, crypto.randomBytes(16))],
  ];
}

it('a successful import uses the ImportToken up and destroys its wrapping key', async () => {
  const id = await newKey('consumed');
  const p = await params(id);
  expect(await wrappingKeys(id)).toHaveLength(1);
  const material = wrap(p, crypto.randomBytes(32));
  expect(await codeOf(importWith(p, material))).toBe('OK');
  expect(await wrappingKeys(id)).toHaveLength(0);
  // Neither the same call again nor any other material gets through.
  expect(await codeOf(importWith(p, material))).toBe(EXPIRED);
  expect(await codeOf(importWith(p, crypto.randomBytes(256).toString('base64')))).toBe(EXPIRED);
  expect(await storedLabels(kms, id)).toEqual([`cmk ${id} v1`]);
  expect((await c().DescribeKey({ KeyId: id })).KeyMetadata!.KeyState).toBe('Enabled');
});

it('five failed imports, however the material is wrong, answer alike and use the ImportToken and its wrapping key up', async () => {
  const id = await newKey('five-failures');
  const p = await params(id);
  const other = (await params(await newKey('five-failures-other'))).publicKey;
  const secretsBefore = (await audit()).filter((o) => o.class === 'secret').length;
  const answers: Array<{ code: string; message: string }> = [];
  for (const [, material] of wrongMaterials(p, other)) answers.push(await failure(importWith(p, material)));
  expect(answers.map((a) => a.code)).toEqual(Array(5).fill(DECRYPT));
  expect(new Set(answers.map((a) => a.message)).size).toBe(1);
  // No object was left in the token, and the wrapping key is gone.
  const after = await audit();
  expect(after.filter((o) => o.class === 'secret')).toHaveLength(secretsBefore);
  expect(await storedLabels(kms, id)).toHaveLength(0);
  expect(await wrappingKeys(id)).toHaveLength(0);
  // The sixth attempt, even with good material, finds no ImportToken.
  expect(await codeOf(importWith(p, wrap(p, crypto.randomBytes(32))))).toBe(EXPIRED);
  expect((await c().DescribeKey({ KeyId: id })).KeyMetadata!.KeyState).toBe('PendingImport');
  // New parameters start afresh.
  const again = await params(id);
  expect(await codeOf(importWith(again, wrap(again, crypto.randomBytes(32))))).toBe('OK');
});

it('four failures leave the ImportToken usable', async () => {
  const id = await newKey('four-failures');
  const p = await params(id);
  const other = (await params(await newKey('four-failures-other'))).publicKey;
  for (const [, material] of wrongMaterials(p, other).slice(0, 4)) expect(await codeOf(importWith(p, material))).toBe(DECRYPT);
  expect(await wrappingKeys(id)).toHaveLength(1);
  expect(await codeOf(importWith(p, wrap(p, crypto.randomBytes(32))))).toBe('OK');
});

it('material other than the key had counts as a failure too', async () => {
  const id = await newKey('mismatch');
  const first = await params(id);
  const material = crypto.randomBytes(32);
  expect(await codeOf(importWith(first, wrap(first, material)))).toBe('OK');
  await c().DeleteImportedKeyMaterial({ KeyId: id });
  const p = await params(id);
  for (let i = 0; i < 5; i++) expect(await codeOf(importWith(p, wrap(p, crypto.randomBytes(32))))).toBe('InvalidParameterValue.MaterialNotMatch');
  expect(await codeOf(importWith(p, wrap(p, material)))).toBe(EXPIRED);
  expect(await storedLabels(kms, id)).toHaveLength(0);
});

it('concurrent attempts, across workers, get at most five tries out of one ImportToken', async () => {
  const id = await newKey('concurrent');
  const p = await params(id);
  const codes = await Promise.all(Array.from({ length: 12 }, () => codeOf(importWith(p, crypto.randomBytes(256).toString('base64')))));
  // At most five tries; on a loaded machine a try may also meet the retry-later answer.
  const tries = codes.filter((x) => x === DECRYPT).length;
  expect(tries).toBeGreaterThanOrEqual(1);
  expect(tries).toBeLessThanOrEqual(5);
  expect(codes.filter((x) => x !== DECRYPT && x !== EXPIRED && x !== 'UnsupportedOperation.ServiceTemporaryUnavailable')).toEqual([]);
  expect(await wrappingKeys(id)).toHaveLength(0);
});

it('of concurrent good imports with one ImportToken, one succeeds', async () => {
  const id = await newKey('concurrent-good');
  const p = await params(id);
  const material = crypto.randomBytes(32);
  const codes = await Promise.all(Array.from({ length: 4 }, () => codeOf(importWith(p, wrap(p, material)))));
  expect(codes.filter((x) => x === 'OK')).toHaveLength(1);
  expect(codes.filter((x) => x !== 'OK').every((x) => x === EXPIRED)).toBe(true);
  expect(await storedLabels(kms, id)).toEqual([`cmk ${id} v1`]);
});

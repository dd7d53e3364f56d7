import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Client as Pg } from 'pg';
import { newMaterial, openBlob, wrapMaterial } from './support/byok';
import { destroyTokenObject, tokenObjects } from './support/embedded-token';
import { storedLabels, WRAPPED } from './support/key-storage';
import { Credential, KmsService } from './support/kms-service';
import { UNPLUGGABLE_PIN, UnpluggableToken, unpluggableToken } from './support/unpluggable-token';
import { sendFresh, signTc3 } from './support/signer';
import { b64, codeOf, kmsClient } from './support/tencent-client';
import { setTestClock } from './support/test-clock';

/**
 * BYOK as the import guide describes it: CreateKey Type 2, GetParametersForImport, the
 * material encrypted with the guide's openssl command lines, ImportKeyMaterial, then
 * DeleteImportedKeyMaterial and the expiry of material and of import parameters on a test
 * clock; every documented error code these actions can give; and where the material is not.
 */

let kms: KmsService;
let root: Credential;
let work: string;
let clockFile: string;
const DAY = 86_400;
const UNKNOWN = '00000000-0000-4000-8000-000000000000';
const NOT_SUPPORTED = 'ResourceUnavailable.CmkStateNotSupport';
const EXPIRED = 'ResourceUnavailable.TokenExpired';
const ALGORITHMS = ['RSAES_PKCS1_V1_5', 'RSAES_OAEP_SHA_1', 'RSAES_OAEP_SHA_256'];
/** As measured on SoftHSM 2.6: it lists CKM_RSA_PKCS_OAEP but refuses SHA-256 with it (CKR_ARGUMENTS_BAD). */
const SUPPORTED = ['RSAES_PKCS1_V1_5', 'RSAES_OAEP_SHA_1'];
const UNSUPPORTED = ALGORITHMS.filter((a) => !SUPPORTED.includes(a));
/** Every raw material imported or offered, to look for later where it must not be. */
const materials: Buffer[] = [];

beforeAll(async () => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'kms-byok-'));
  clockFile = path.join(work, 'clock');
  fs.writeFileSync(clockFile, '0');
  kms = await KmsService.start({
    workers: 2,
    env: { KMS_TEST_CLOCK_FILE: clockFile, KMS_JOB_INTERVAL_MS: '100', KMS_LOG_LEVEL: 'debug', KMS_RATE_LIMITS: 'off', KMS_REGIONS: 'ap-guangzhou,ap-shanghai,ap-gm:gm' },
  });
  root = await kms.createAccount('byok');
});
afterAll(async () => {
  await kms.stop();
  fs.rmSync(work, { recursive: true, force: true });
});

const c = (region = 'ap-guangzhou') => kmsClient(kms.endpoint, root, { region });
const meta = async (KeyId: string, region?: string) => (await c(region).DescribeKey({ KeyId })).KeyMetadata!;
const newKey = async (Alias: string, Type = 2, region?: string) => (await c(region).CreateKey({ Alias, Type })).KeyId!;
const params = (KeyId: string, WrappingAlgorithm = 'RSAES_OAEP_SHA_1', region?: string) => c(region).GetParametersForImport({ KeyId, WrappingAlgorithm, WrappingKeySpec: 'RSA_2048' });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const now = () => Math.floor(Date.now() / 1000);
const setClock = (seconds: number) => setTestClock(clockFile, seconds);
const encrypt = async (KeyId: string, text: string, region?: string) => (await c(region).Encrypt({ KeyId, Plaintext: b64(text) })).CiphertextBlob!;
const decrypt = async (CiphertextBlob: string, region?: string) => Buffer.from((await c(region).Decrypt({ CiphertextBlob })).Plaintext!, 'base64').toString();
/** An imported key's stored material (external keys have one version): its token object, or its wrapped blob. */
const objectsOf = (keyId: string) => storedLabels(kms, keyId);
const pairOf = (keyId: string) => tokenObjects(kms.env.KMS_DATA_DIR, 'privateKey').filter((k) => k.label === `kms import ${keyId}`);

/** Fresh material of `bytes` bytes (openssl rand), remembered for the secrecy checks. */
function material(bytes = 32): { dir: string; material: Buffer } {
  const m = newMaterial(work, bytes);
  materials.push(m.material);
  return m;
}

/** GetParametersForImport, openssl, ImportKeyMaterial. */
async function importInto(KeyId: string, m: { dir: string }, opts: { algorithm?: string; region?: string; ValidTo?: number } = {}): Promise<string> {
  const p = await params(KeyId, opts.algorithm, opts.region);
  return codeOf(c(opts.region).ImportKeyMaterial({ KeyId, ImportToken: p.ImportToken!, EncryptedKeyMaterial: wrapMaterial(m.dir, p.PublicKey!, opts.algorithm ?? 'RSAES_OAEP_SHA_1'), ValidTo: opts.ValidTo }));
}

async function failure(p: Promise<unknown>): Promise<{ code: string; message: string }> {
  try {
    await p;
  } catch (e) {
    return { code: (e as { code: string }).code, message: (e as Error).message };
  }
  throw new Error('the call succeeded');
}

describe('the import guide, step by step', () => {
  it.each(SUPPORTED)('%s: a key made for import, its parameters, openssl, ImportKeyMaterial; then the key is the material', async (algorithm) => {
    const id = await newKey(`guide-${algorithm}`);
    expect(await meta(id)).toMatchObject({ KeyState: 'PendingImport', Origin: 'EXTERNAL', ValidTo: 0 });
    expect(await codeOf(c().Encrypt({ KeyId: id, Plaintext: b64('x') }))).toBe(NOT_SUPPORTED);

    const before = now();
    const p = await params(id, algorithm);
    expect(p.KeyId).toBe(id);
    // A day from the call, which a loaded machine may take seconds over (an RSA pair made in the token).
    expect(p.ParametersValidTo).toBeGreaterThanOrEqual(before + DAY);
    expect(p.ParametersValidTo).toBeLessThanOrEqual(now() + DAY);
    const spki = crypto.createPublicKey({ key: Buffer.from(p.PublicKey!, 'base64'), format: 'der', type: 'spki' });
    expect(spki.asymmetricKeyType).toBe('rsa');
    expect(spki.asymmetricKeyDetails!.modulusLength).toBe(2048);

    const m = material();
    const EncryptedKeyMaterial = wrapMaterial(m.dir, p.PublicKey!, algorithm);
    await c().ImportKeyMaterial({ KeyId: id, ImportToken: p.ImportToken!, EncryptedKeyMaterial });
    expect(await meta(id)).toMatchObject({ KeyState: 'Enabled', Origin: 'EXTERNAL', ValidTo: 0 });
    const blob = await encrypt(id, `imported with ${algorithm}`);
    expect(await decrypt(blob)).toBe(`imported with ${algorithm}`);
    // The key in the token is exactly the owner's material: the owner opens the blob offline.
    expect(openBlob(blob, m.material).toString()).toBe(`imported with ${algorithm}`);
    expect(await objectsOf(id)).toEqual([`cmk ${id} v1`]);
  });

  it('answers InvalidParameter at GetParametersForImport, naming what the token can do, for an algorithm it cannot unwrap with', async () => {
    expect(UNSUPPORTED.length).toBeGreaterThan(0);
    const id = await newKey('unsupported-algorithm');
    for (const algorithm of UNSUPPORTED) {
      const f = await failure(params(id, algorithm));
      expect(f.code).toBe('InvalidParameter');
      expect(f.message).toContain(`cannot unwrap with ${algorithm}`);
      expect(f.message).toContain(`it supports ${SUPPORTED.join(', ')}`);
    }
    expect(pairOf(id)).toHaveLength(0);
    expect(kms.logs).toContain(`"msg":"wrapping algorithms for imported key material, as measured on the token","supported":${JSON.stringify(SUPPORTED)}`);
  });

  it('works across workers: parameters from one process, the import in another', async () => {
    for (let i = 0; i < 4; i++) {
      const id = await newKey(`across-${i}`);
      const call = (action: string, body: Record<string, unknown>) => sendFresh(signTc3(kms.endpoint, root, { action, body: JSON.stringify(body), region: 'ap-guangzhou' }));
      const p = (await call('GetParametersForImport', { KeyId: id, WrappingAlgorithm: 'RSAES_PKCS1_V1_5', WrappingKeySpec: 'RSA_2048' })).body as { ImportToken: string; PublicKey: string };
      const r = await call('ImportKeyMaterial', { KeyId: id, ImportToken: p.ImportToken, EncryptedKeyMaterial: wrapMaterial(material().dir, p.PublicKey, 'RSAES_PKCS1_V1_5') });
      expect(r.code).toBeUndefined();
      expect((await meta(id)).KeyState).toBe('Enabled');
    }
  });

  it('takes 256-bit material in FIPS regions and 128-bit material in GM regions, nothing else', async () => {
    const fips = await newKey('fips-length');
    const short = await failure(c().ImportKeyMaterial({ KeyId: fips, ...(await wrapped(fips, material(16))) }));
    expect(short).toEqual({ code: 'InvalidParameter.DecryptMaterialError', message: expect.stringContaining('256-bit') });
    expect((await meta(fips)).KeyState).toBe('PendingImport');
    expect(await objectsOf(fips)).toHaveLength(0);
    expect(await importInto(fips, material(32))).toBe('OK');

    const gm = await newKey('gm-length', 2, 'ap-gm');
    expect(await failure(c('ap-gm').ImportKeyMaterial({ KeyId: gm, ...(await wrapped(gm, material(32), 'ap-gm')) }))).toEqual({ code: 'InvalidParameter.DecryptMaterialError', message: expect.stringContaining('128-bit') });
    expect(await failure(c('ap-gm').ImportKeyMaterial({ KeyId: gm, ...(await wrapped(gm, material(24), 'ap-gm')) }))).toMatchObject({ code: 'InvalidParameter.DecryptMaterialError' });
    expect(await objectsOf(gm)).toHaveLength(0);
    const m = material(16);
    expect(await importInto(gm, m, { region: 'ap-gm' })).toBe('OK');
    const blob = await encrypt(gm, 'national standard', 'ap-gm');
    expect(await decrypt(blob, 'ap-gm')).toBe('national standard');
    expect(openBlob(blob, m.material).toString()).toBe('national standard');
  });
});

/** Fresh parameters for `keyId` and the material wrapped to them (OAEP-SHA-1). */
async function wrapped(KeyId: string, m: { dir: string }, region?: string): Promise<{ ImportToken: string; EncryptedKeyMaterial: string }> {
  const p = await params(KeyId, 'RSAES_OAEP_SHA_1', region);
  return { ImportToken: p.ImportToken!, EncryptedKeyMaterial: wrapMaterial(m.dir, p.PublicKey!, 'RSAES_OAEP_SHA_1') };
}

describe('the wrapping key pair', () => {
  it('is an unwrap-only, sensitive, never-extractable private key in the token; a newer call replaces it and its token', async () => {
    const id = await newKey('pair');
    const first = await params(id, 'RSAES_PKCS1_V1_5');
    const [pair] = pairOf(id);
    expect(pairOf(id)).toHaveLength(1);
    expect(pair).toMatchObject({ usage: ['unwrap'], sensitive: true, alwaysSensitive: true, extractable: false, neverExtractable: true });

    const m = material();
    const second = await params(id, 'RSAES_OAEP_SHA_1');
    expect(second.PublicKey).not.toBe(first.PublicKey);
    expect(pairOf(id).map((k) => k.id)).toEqual([expect.not.stringMatching(pair.id)]);
    const stale = await failure(c().ImportKeyMaterial({ KeyId: id, ImportToken: first.ImportToken!, EncryptedKeyMaterial: wrapMaterial(m.dir, first.PublicKey!, 'RSAES_PKCS1_V1_5') }));
    expect(stale.code).toBe(EXPIRED);
    // A successful import uses the token up.
    const EncryptedKeyMaterial = wrapMaterial(m.dir, second.PublicKey!, 'RSAES_OAEP_SHA_1');
    await c().ImportKeyMaterial({ KeyId: id, ImportToken: second.ImportToken!, EncryptedKeyMaterial });
    expect(await codeOf(c().ImportKeyMaterial({ KeyId: id, ImportToken: second.ImportToken!, EncryptedKeyMaterial }))).toBe(EXPIRED);
    expect((await meta(id)).KeyState).toBe('Enabled');
  });
});

describe('ImportKeyMaterial', () => {
  it('takes the same material again, with a new ValidTo, and refuses any other', async () => {
    const id = await newKey('reimport');
    const m = material();
    expect(await importInto(id, m)).toBe('OK');
    const blob = await encrypt(id, 'first import');
    const validTo = now() + 30 * DAY;
    expect(await importInto(id, m, { algorithm: 'RSAES_PKCS1_V1_5', ValidTo: validTo })).toBe('OK');
    expect(await meta(id)).toMatchObject({ KeyState: 'Enabled', ValidTo: validTo });
    expect(await importInto(id, material())).toBe('InvalidParameterValue.MaterialNotMatch');
    expect(await meta(id)).toMatchObject({ KeyState: 'Enabled', ValidTo: validTo });
    expect(await importInto(id, m, { ValidTo: 0 })).toBe('OK');
    expect((await meta(id)).ValidTo).toBe(0);
    expect(await decrypt(blob)).toBe('first import');
    // A re-import keeps the key's one object; refused and repeated material leave none behind.
    expect(await objectsOf(id)).toEqual([`cmk ${id} v1`]);
  });

  it('refuses an ImportToken that is not the current one of this key', async () => {
    const a = await newKey('token-a');
    const b = await newKey('token-b');
    const m = material();
    const pa = await params(a);
    const pb = await params(b);
    const tryImport = (KeyId: string, ImportToken: string, PublicKey: string) => codeOf(c().ImportKeyMaterial({ KeyId, ImportToken, EncryptedKeyMaterial: wrapMaterial(m.dir, PublicKey, 'RSAES_OAEP_SHA_1') }));
    expect(await tryImport(a, pb.ImportToken!, pb.PublicKey!)).toBe(EXPIRED);
    expect(await tryImport(a, 'not a token', pa.PublicKey!)).toBe(EXPIRED);
    expect(await tryImport(a, '', pa.PublicKey!)).toBe(EXPIRED);
    expect(await tryImport(b, pb.ImportToken!, pb.PublicKey!)).toBe('OK');
    // A key that never had parameters.
    expect(await tryImport(await newKey('token-none'), pa.ImportToken!, pa.PublicKey!)).toBe(EXPIRED);
  });

  it('answers DecryptMaterialError for material the wrapping key does not open', async () => {
    const id = await newKey('undecryptable');
    const p = await params(id, 'RSAES_OAEP_SHA_1');
    const attempt = (EncryptedKeyMaterial: string) => codeOf(c().ImportKeyMaterial({ KeyId: id, ImportToken: p.ImportToken!, EncryptedKeyMaterial }));
    const DECRYPT = 'InvalidParameter.DecryptMaterialError';
    expect(await attempt(crypto.randomBytes(256).toString('base64'))).toBe(DECRYPT);
    expect(await attempt(crypto.randomBytes(100).toString('base64'))).toBe(DECRYPT);
    expect(await attempt('')).toBe(DECRYPT);
    const m = material();
    // Encrypted with the wrong padding, or to another key's public key.
    expect(await attempt(wrapMaterial(m.dir, p.PublicKey!, 'RSAES_PKCS1_V1_5'))).toBe(DECRYPT);
    const other = await params(await newKey('undecryptable-other'));
    expect(await attempt(wrapMaterial(m.dir, other.PublicKey!, 'RSAES_OAEP_SHA_1'))).toBe(DECRYPT);
    expect(await attempt('bm90IGJhc2U2NA=!')).toBe('InvalidParameter');
    expect((await meta(id)).KeyState).toBe('PendingImport');
    expect(await objectsOf(id)).toHaveLength(0);
    // Five failures used the ImportToken up (test/import-token.e2e.test.ts); fresh parameters work.
    const fresh = await params(id, 'RSAES_OAEP_SHA_1');
    expect(await codeOf(c().ImportKeyMaterial({ KeyId: id, ImportToken: fresh.ImportToken!, EncryptedKeyMaterial: wrapMaterial(m.dir, fresh.PublicKey!, 'RSAES_OAEP_SHA_1') }))).toBe('OK');
  });

  it('takes ValidTo 0, or a time in the future up to 2147443200', async () => {
    const id = await newKey('valid-to');
    const m = material();
    for (const ValidTo of [now() - 10, now(), 2_147_443_201]) expect(await importInto(id, m, { ValidTo })).toBe('InvalidParameter');
    expect(await codeOf(c().ImportKeyMaterial({ KeyId: id, ImportToken: 'x', EncryptedKeyMaterial: '', ValidTo: -1 }))).toBe('InvalidParameter');
    expect(await importInto(id, m, { ValidTo: 2_147_443_200 })).toBe('OK');
    expect((await meta(id)).ValidTo).toBe(2_147_443_200);
  });

  it('refuses keys whose material KMS made, and states that take no material', async () => {
    const m = material();
    const kmsKey = await newKey('not-external', 1);
    expect(await codeOf(params(kmsKey))).toBe('UnsupportedOperation.NotExternalCmk');
    const p = await params(await newKey('some-external'));
    expect(await codeOf(c().ImportKeyMaterial({ KeyId: kmsKey, ImportToken: p.ImportToken!, EncryptedKeyMaterial: wrapMaterial(m.dir, p.PublicKey!, 'RSAES_OAEP_SHA_1') }))).toBe(
      'UnsupportedOperation.NotExternalCmk',
    );

    const disabled = await newKey('import-disabled');
    expect(await importInto(disabled, m)).toBe('OK');
    await c().DisableKey({ KeyId: disabled });
    expect(await importInto(disabled, m)).toBe(NOT_SUPPORTED);
    await c().ArchiveKey({ KeyId: disabled });
    expect(await codeOf(params(disabled))).toBe(NOT_SUPPORTED);

    const doomed = await newKey('import-doomed');
    const pd = await params(doomed);
    await c().ScheduleKeyDeletion({ KeyId: doomed, PendingWindowInDays: 7 });
    expect(await codeOf(c().ImportKeyMaterial({ KeyId: doomed, ImportToken: pd.ImportToken!, EncryptedKeyMaterial: wrapMaterial(m.dir, pd.PublicKey!, 'RSAES_OAEP_SHA_1') }))).toBe(NOT_SUPPORTED);
    expect(await codeOf(params(doomed))).toBe(NOT_SUPPORTED);
  });

  it('checks WrappingAlgorithm and WrappingKeySpec', async () => {
    const id = await newKey('parameter-values');
    expect(await codeOf(c().GetParametersForImport({ KeyId: id, WrappingAlgorithm: 'RSAES_OAEP_SHA_512', WrappingKeySpec: 'RSA_2048' }))).toBe('InvalidParameter');
    expect(await codeOf(c().GetParametersForImport({ KeyId: id, WrappingAlgorithm: 'rsaes_pkcs1_v1_5', WrappingKeySpec: 'RSA_2048' }))).toBe('InvalidParameter');
    expect(await codeOf(c().GetParametersForImport({ KeyId: id, WrappingAlgorithm: 'RSAES_PKCS1_V1_5', WrappingKeySpec: 'RSA_4096' }))).toBe('InvalidParameter');
    expect(pairOf(id)).toHaveLength(0);
  });
});

describe('the key-id and authorization errors of the three actions', () => {
  const raw = (cred: Credential, action: string, body: Record<string, unknown>) => sendFresh(signTc3(kms.endpoint, cred, { action, body: JSON.stringify(body), region: 'ap-guangzhou' }));
  const ACTIONS: Array<[string, (k: unknown) => Record<string, unknown>]> = [
    ['GetParametersForImport', (k) => ({ KeyId: k, WrappingAlgorithm: 'RSAES_OAEP_SHA_1', WrappingKeySpec: 'RSA_2048' })],
    ['ImportKeyMaterial', (k) => ({ KeyId: k, ImportToken: 'x', EncryptedKeyMaterial: b64('y') })],
    ['DeleteImportedKeyMaterial', (k) => ({ KeyId: k })],
  ];
  it.each(ACTIONS)('%s: InvalidKeyId, CmkNotFound, InvalidParameter, MissingParameter, UnknownParameter, UnauthorizedOperation', async (action, body) => {
    expect((await raw(root, action, body('not-a-key-id'))).code).toBe('InvalidParameterValue.InvalidKeyId');
    expect((await raw(root, action, body(UNKNOWN))).code).toBe('ResourceUnavailable.CmkNotFound');
    expect((await raw(root, action, body(42))).code).toBe('InvalidParameter');
    for (const name of Object.keys(body(UNKNOWN))) {
      const { [name]: _, ...rest } = body(UNKNOWN);
      expect([name, (await raw(root, action, rest)).code]).toEqual([name, 'MissingParameter']);
    }
    expect((await raw(root, action, { ...body(UNKNOWN), Extra: 1 })).code).toBe('UnknownParameter');
    const other = await kms.createAccount(`other-${action}`);
    const id = await newKey(`authz-${action}`);
    expect((await raw(other, action, body(id))).code).toBe('ResourceUnavailable.CmkNotFound');
    const nobody = await kms.cli<Credential>('user', 'create', '--account', root.Uin, '--name', `nobody-${action}`);
    expect((await raw(nobody, action, body(id))).code).toBe('UnauthorizedOperation');
  });
});

describe('DeleteImportedKeyMaterial', () => {
  it('destroys the material; only the same material brings the key and its old ciphertexts back', async () => {
    const id = await newKey('delete-material');
    const m = material();
    expect(await importInto(id, m)).toBe('OK');
    const blob = await encrypt(id, 'before deletion');
    await c().DeleteImportedKeyMaterial({ KeyId: id });
    expect(await meta(id)).toMatchObject({ KeyState: 'PendingImport', ValidTo: 0, Origin: 'EXTERNAL' });
    expect(await objectsOf(id)).toHaveLength(0);
    expect(await codeOf(c().Decrypt({ CiphertextBlob: blob }))).toBe(NOT_SUPPORTED);
    expect(await codeOf(c().Encrypt({ KeyId: id, Plaintext: b64('x') }))).toBe(NOT_SUPPORTED);
    // Nothing left to delete is not an error.
    await c().DeleteImportedKeyMaterial({ KeyId: id });

    expect(await importInto(id, material())).toBe('InvalidParameterValue.MaterialNotMatch');
    expect(await objectsOf(id)).toHaveLength(0);
    expect(await importInto(id, m, { algorithm: 'RSAES_PKCS1_V1_5' })).toBe('OK');
    expect((await meta(id)).KeyState).toBe('Enabled');
    expect(await decrypt(blob)).toBe('before deletion');
    expect(Buffer.from(await encrypt(id, 'after'), 'base64').readUInt32BE(19)).toBe(1);
    expect(await objectsOf(id)).toEqual([`cmk ${id} v1`]);
  });

  it('deletes from a Disabled key too, and answers NotExternalCmk, CmkUsedByCloudProduct and CmkStateNotSupport', async () => {
    expect(await codeOf(c().DeleteImportedKeyMaterial({ KeyId: await newKey('delete-kms-key', 1) }))).toBe('UnsupportedOperation.NotExternalCmk');

    const m = material();
    const bound = await newKey('delete-bound');
    expect(await importInto(bound, m)).toBe('OK');
    await c().BindCloudResource({ KeyId: bound, ProductId: 'cbs', ResourceId: 'disk-1' });
    expect(await codeOf(c().DeleteImportedKeyMaterial({ KeyId: bound }))).toBe('FailedOperation.CmkUsedByCloudProduct');
    expect((await meta(bound)).KeyState).toBe('Enabled');
    // Nor may a re-import give a bound key's material an expiry.
    expect(await importInto(bound, m, { ValidTo: now() + DAY })).toBe('InvalidParameter');
    expect(await importInto(bound, m, { ValidTo: 0 })).toBe('OK');
    expect((await meta(bound)).ValidTo).toBe(0);
    await c().UnbindCloudResource({ KeyId: bound, ProductId: 'cbs', ResourceId: 'disk-1' });
    await c().DisableKey({ KeyId: bound });
    await c().DeleteImportedKeyMaterial({ KeyId: bound });
    expect((await meta(bound)).KeyState).toBe('PendingImport');

    const archived = await newKey('delete-archived');
    expect(await importInto(archived, m)).toBe('OK');
    await c().ArchiveKey({ KeyId: archived });
    expect(await codeOf(c().DeleteImportedKeyMaterial({ KeyId: archived }))).toBe(NOT_SUPPORTED);
    await c().CancelKeyArchive({ KeyId: archived });
    await c().DisableKey({ KeyId: archived });
    await c().ScheduleKeyDeletion({ KeyId: archived, PendingWindowInDays: 7 });
    expect(await codeOf(c().DeleteImportedKeyMaterial({ KeyId: archived }))).toBe(NOT_SUPPORTED);
  });
});

describe('races with BindCloudResource', () => {
  const ROUNDS = 8;
  /** DescribeKey answers from a worker's cache, which learns of the other worker's writes within about 250 ms. */
  const FEED_MS = 600;
  const bind = (KeyId: string, i: number) => codeOf(c().BindCloudResource({ KeyId, ProductId: 'cbs', ResourceId: `race-${i}` }));
  const bound = async (KeyId: string, i: number) => (await codeOf(c().UnbindCloudResource({ KeyId, ProductId: 'cbs', ResourceId: `race-${i}` }))) === 'OK';

  it('never leaves a bound key with an expiry, whichever of a re-import and a bind comes first', async () => {
    const keys = await Promise.all(Array.from({ length: ROUNDS }, (_, i) => newKey(`race-expiry-${i}`)));
    const ms = keys.map(() => material());
    for (const [i, id] of keys.entries()) expect(await importInto(id, ms[i])).toBe('OK');
    const prepared: { ImportToken: string; EncryptedKeyMaterial: string }[] = [];
    for (const [i, id] of keys.entries()) {
      const p = await params(id);
      prepared.push({ ImportToken: p.ImportToken!, EncryptedKeyMaterial: wrapMaterial(ms[i].dir, p.PublicKey!, 'RSAES_OAEP_SHA_1') });
    }
    const ValidTo = now() + DAY;
    const outcomes = await Promise.all(keys.map(async (KeyId, i) => {
      // The bind lands while the token unwraps the material, at a different moment each round.
      const imported = codeOf(c().ImportKeyMaterial({ KeyId, ...prepared[i], ValidTo }));
      await sleep(i * 2);
      return Promise.all([imported, bind(KeyId, i)]);
    }));
    await sleep(FEED_MS);
    for (const [i, id] of keys.entries()) {
      expect(['OK', 'InvalidParameter']).toContain(outcomes[i][0]);
      expect(outcomes[i][1]).toBe('OK');
      expect((await meta(id)).ValidTo).toBe(0);
      expect(await bound(id, i)).toBe(true);
    }
  });

  it('never deletes a bound key\'s material, whichever of a deletion and a bind comes first', async () => {
    const keys = await Promise.all(Array.from({ length: ROUNDS }, (_, i) => newKey(`race-delete-${i}`)));
    for (const id of keys) expect(await importInto(id, material())).toBe('OK');
    const outcomes = await Promise.all(keys.map(async (KeyId, i) => {
      const deleted = codeOf(c().DeleteImportedKeyMaterial({ KeyId }));
      await sleep(i % 4);
      return Promise.all([deleted, bind(KeyId, i)]);
    }));
    await sleep(FEED_MS);
    for (const [i, id] of keys.entries()) {
      const state = (await meta(id)).KeyState;
      const isBound = await bound(id, i);
      expect({ i, outcome: outcomes[i], state, isBound }).toEqual(state === 'PendingImport' ? { i, outcome: [outcomes[i][0], outcomes[i][1]], state, isBound: false } : { i, outcome: [outcomes[i][0], outcomes[i][1]], state: 'Enabled', isBound: true });
      if (state === 'Enabled') expect(outcomes[i][0]).toBe('FailedOperation.CmkUsedByCloudProduct');
    }
  });
});

describe('what the token and the service hold', () => {
  it('the token shows imported keys as sensitive and non-extractable, their value unreadable (wrapped storage: a blob, and nothing in the token)', async () => {
    const id = await newKey('audited');
    expect(await importInto(id, material())).toBe('OK');
    if (WRAPPED) {
      expect(await storedLabels(kms, id)).toEqual([`cmk ${id} v1`]);
    } else {
      const [entry] = (await kms.cli<Array<Record<string, unknown>>>('token', 'audit')).filter((o) => o.label === `cmk ${id} v1`);
      // PKCS#11 marks unwrapped keys as having been outside the token: never "always sensitive" or "never extractable".
      expect(entry).toMatchObject({ sensitive: true, extractable: false, valueReadable: false, alwaysSensitive: false, neverExtractable: false });
    }
  });

  it('no raw material is in the database or the logs, in bytes, hex or base64', async () => {
    expect(materials.length).toBeGreaterThan(10);
    const forms = (m: Buffer) => [m.toString('hex'), m.toString('hex').toUpperCase(), m.toString('base64'), m.toString('base64url')];
    let text: string;
    if (kms.env.KMS_DATABASE_URL) {
      const pg = new Pg({ connectionString: kms.env.KMS_DATABASE_URL });
      await pg.connect();
      const tables = (await pg.query("SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'")).rows.map((r: { table_name: string }) => r.table_name);
      const dumps: unknown[] = [];
      for (const t of tables) dumps.push((await pg.query(`SELECT * FROM "${t}"`)).rows);
      await pg.end();
      expect(tables).toContain('import_parameters');
      text = JSON.stringify(dumps);
    } else {
      const dir = kms.env.KMS_DATA_DIR;
      const bytes = Buffer.concat(fs.readdirSync(dir).filter((f) => f.startsWith('kms.sqlite')).map((f) => fs.readFileSync(path.join(dir, f))));
      for (const m of materials) expect(bytes.includes(m)).toBe(false);
      text = bytes.toString('latin1');
    }
    expect(text).toContain('RSAES_OAEP_SHA_1');
    expect(kms.logs).toContain('"msg":"key material imported"');
    for (const m of materials) {
      for (const f of forms(m)) {
        expect(text.includes(f)).toBe(false);
        expect(kms.logs.includes(f)).toBe(false);
      }
      expect(Buffer.from(kms.logs, 'latin1').includes(m)).toBe(false);
    }
  });
});

describe('expiry on the test clock', () => {
  afterEach(() => setClock(0));

  it('deletes material when its ValidTo passes, as DeleteImportedKeyMaterial would; the same material can come back', async () => {
    const id = await newKey('expiring');
    const keep = await newKey('not-expiring');
    const m = material();
    const validTo = now() + 3600;
    expect(await importInto(id, m, { ValidTo: validTo })).toBe('OK');
    expect(await importInto(keep, material(), { ValidTo: now() + 3 * 3600 })).toBe('OK');
    expect((await meta(id)).ValidTo).toBe(validTo);
    const blob = await encrypt(id, 'for an hour');

    await setClock(1800);
    await sleep(600);
    expect((await meta(id)).KeyState).toBe('Enabled');
    await setClock(7200);
    const until = Date.now() + 5000;
    while (Date.now() < until && (await meta(id)).KeyState !== 'PendingImport') await sleep(100);
    expect(await meta(id)).toMatchObject({ KeyState: 'PendingImport', ValidTo: 0 });
    expect(await objectsOf(id)).toHaveLength(0);
    expect(await codeOf(c().Decrypt({ CiphertextBlob: blob }))).toBe(NOT_SUPPORTED);
    expect((await meta(keep)).KeyState).toBe('Enabled');
    expect(kms.logs.match(new RegExp(`"msg":"imported key material expired","keyId":"${id}"`, 'g'))).toHaveLength(1);

    expect(await importInto(id, m)).toBe('OK');
    expect(await meta(id)).toMatchObject({ KeyState: 'Enabled', ValidTo: 0 });
    expect(await decrypt(blob)).toBe('for an hour');
  });

  it('import parameters last 24 hours: then TokenExpired, and a job destroys their key pair', async () => {
    const early = await newKey('params-early');
    const late = await newKey('params-late');
    const m = material();
    const pe = await params(early);
    const pl = await params(late);
    const wrappedEarly = wrapMaterial(m.dir, pe.PublicKey!, 'RSAES_OAEP_SHA_1');
    const wrappedLate = wrapMaterial(m.dir, pl.PublicKey!, 'RSAES_OAEP_SHA_1');

    await setClock(DAY - 60);
    await c().ImportKeyMaterial({ KeyId: early, ImportToken: pe.ImportToken!, EncryptedKeyMaterial: wrappedEarly });
    expect(pairOf(late)).toHaveLength(1);
    await setClock(DAY + 60);
    expect(await codeOf(c().ImportKeyMaterial({ KeyId: late, ImportToken: pl.ImportToken!, EncryptedKeyMaterial: wrappedLate }))).toBe(EXPIRED);
    const until = Date.now() + 5000;
    while (Date.now() < until && pairOf(late).length + pairOf(early).length > 0) await sleep(200);
    expect(pairOf(late)).toHaveLength(0);
    expect(pairOf(early)).toHaveLength(0);
    expect(await codeOf(c().ImportKeyMaterial({ KeyId: late, ImportToken: pl.ImportToken!, EncryptedKeyMaterial: wrappedLate }))).toBe(EXPIRED);
    // New parameters work again.
    expect(await importInto(late, m)).toBe('OK');
  });
});

describe('token failures', () => {
  it('answers InternalError, without detail, when the token lost the wrapping key', async () => {
    const id = await newKey('lost-pair');
    const p = await params(id);
    destroyTokenObject(kms.env.KMS_DATA_DIR, 'privateKey', pairOf(id)[0].id);
    const f = await failure(c().ImportKeyMaterial({ KeyId: id, ImportToken: p.ImportToken!, EncryptedKeyMaterial: wrapMaterial(material().dir, p.PublicKey!, 'RSAES_OAEP_SHA_1') }));
    expect(f.code).toBe('InternalError');
    expect(f.message).toMatch(/^internal error; quote RequestId /);
    expect((await meta(id)).KeyState).toBe('PendingImport');
  });

  describe('a token that goes away', () => {
    let token: UnpluggableToken;
    let svc: KmsService;
    let cred: Credential;

    beforeAll(async () => {
      token = unpluggableToken('kms-byok-unplug', 200);
      svc = await KmsService.start({ env: { KMS_HSM_PROFILE: token.profile, KMS_HSM_PIN: UNPLUGGABLE_PIN, KMS_RATE_LIMITS: 'off' } });
      cred = await svc.createAccount('byok-unplugged');
      // Let the credential's change event pass, so that requests authenticate without the token.
      await sleep(600);
    });
    afterAll(async () => {
      await svc.stop();
      token.remove();
    });

    it('answers ServiceTemporaryUnavailable from all three actions and changes nothing', async () => {
      const u = kmsClient(svc.endpoint, cred);
      const id = (await u.CreateKey({ Alias: 'unplugged', Type: 2 })).KeyId!;
      const m = material();
      const p = await u.GetParametersForImport({ KeyId: id, WrappingAlgorithm: 'RSAES_OAEP_SHA_1', WrappingKeySpec: 'RSA_2048' });
      const EncryptedKeyMaterial = wrapMaterial(m.dir, p.PublicKey!, 'RSAES_OAEP_SHA_1');
      const imported = (await u.CreateKey({ Alias: 'unplugged-imported', Type: 2 })).KeyId!;
      const pi = await u.GetParametersForImport({ KeyId: imported, WrappingAlgorithm: 'RSAES_OAEP_SHA_1', WrappingKeySpec: 'RSA_2048' });
      await u.ImportKeyMaterial({ KeyId: imported, ImportToken: pi.ImportToken!, EncryptedKeyMaterial: wrapMaterial(m.dir, pi.PublicKey!, 'RSAES_OAEP_SHA_1') });

      token.unplug();
      const UNAVAILABLE = 'UnsupportedOperation.ServiceTemporaryUnavailable';
      expect(await codeOf(u.ImportKeyMaterial({ KeyId: id, ImportToken: p.ImportToken!, EncryptedKeyMaterial }))).toBe(UNAVAILABLE);
      expect(await codeOf(u.GetParametersForImport({ KeyId: id, WrappingAlgorithm: 'RSAES_OAEP_SHA_1', WrappingKeySpec: 'RSA_2048' }))).toBe(UNAVAILABLE);
      expect(await codeOf(u.DeleteImportedKeyMaterial({ KeyId: imported }))).toBe(UNAVAILABLE);
      expect((await u.DescribeKey({ KeyId: imported })).KeyMetadata!.KeyState).toBe('Enabled');
      expect((await u.DescribeKey({ KeyId: id })).KeyMetadata!.KeyState).toBe('PendingImport');

      token.plugIn();
      const until = Date.now() + 10_000;
      while (Date.now() < until && (await codeOf(u.ImportKeyMaterial({ KeyId: id, ImportToken: p.ImportToken!, EncryptedKeyMaterial }))) !== 'OK') await sleep(200);
      expect((await u.DescribeKey({ KeyId: id })).KeyMetadata!.KeyState).toBe('Enabled');
      await u.DeleteImportedKeyMaterial({ KeyId: imported });
      expect((await u.DescribeKey({ KeyId: imported })).KeyMetadata!.KeyState).toBe('PendingImport');
    });
  });
});

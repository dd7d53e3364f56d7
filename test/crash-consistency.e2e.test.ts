import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import { sql } from './support/audit-db';
import { createTokenObject, tokenObjects } from './support/embedded-token';
import { WRAPPED } from './support/key-storage';
import { Credential, KmsService, kmsCli } from './support/kms-service';
import { b64, kmsClient } from './support/tencent-client';
import { msUntil } from './support/wait';

/**
 * kill -9 of the whole service (primary and workers) during storms of CreateKey, RotateKey and
 * ImportKeyMaterial. After it no key row lacks its token object (its blob, in wrapped storage);
 * `kms token reconcile` lists the objects the service made that no row owns (the crash's, and
 * some planted behind its back) and with --fix removes them, never touching an object it did
 * not make; once restarted, the periodic job removes new ones by itself and records it in the
 * audit trail.
 */

const GRACE_S = 2;
let kms: KmsService;
let cred: Credential;

beforeAll(async () => {
  kms = await KmsService.start({
    workers: 2,
    env: { KMS_RATE_LIMITS: 'off', KMS_MAX_KEY_VERSIONS: '100000', KMS_TOKEN_RECONCILE_GRACE_S: String(GRACE_S), KMS_TOKEN_RECONCILE_INTERVAL_S: '1', KMS_JOB_INTERVAL_MS: '250' },
  });
  cred = await kms.createAccount('crash');
});
// Stopping waits out processes the test may have killed and restarted.
afterAll(async () => {
  await kms?.stop();
}, 120_000);

const dataDir = () => kms.env.KMS_DATA_DIR;
/** CKA_IDs of the token's persistent secret and private keys, by label. */
const tokenIds = () => new Map([...tokenObjects(dataDir(), 'secretKey'), ...tokenObjects(dataDir(), 'privateKey')].map((o) => [o.id, o.label]));
/** The object ids rows own: CMK versions kept in the token (not as a wrapped blob) and import wrapping keys. */
async function ownedIds(): Promise<Set<string>> {
  const versions = await sql<{ id: string }>(kms.env, 'SELECT id FROM cmk_versions WHERE wrapped IS NULL');
  const params = await sql<{ wrapping_key_id: string }>(kms.env, 'SELECT wrapping_key_id FROM import_parameters');
  return new Set([...versions.map((r) => r.id), ...params.map((r) => r.wrapping_key_id)]);
}
const serviceLabel = (label: string) => /^(cmk \S+ v\d+|kms import \S+)$/.test(label);

async function cli<T>(...args: string[]): Promise<T> {
  const r = await kmsCli(kms.env, ...args);
  if (r.code !== 0) throw new Error(`kms ${args.join(' ')} failed (${r.code}): ${r.stderr}`);
  return JSON.parse(r.stdout) as T;
}

interface Reconciled {
  Orphans: Array<{ Id: string; Label: string }>;
  Removed: string[];
  InFlight: number;
}

it('leaves no key row without its material after kill -9 in a storm, and reconciles the objects no row owns', async () => {
  const c = kmsClient(kms.endpoint, cred);
  const rotating = await Promise.all([0, 1, 2, 3].map(async (i) => (await c.CreateKey({ Alias: `rot-${i}` })).KeyId!));
  let running = true;
  let n = 0;
  const answered: string[] = [];
  const loop = (step: () => Promise<unknown>) =>
    (async () => {
      while (running) await step().then(() => answered.push('OK'), () => undefined);
    })();
  const importOne = async () => {
    const { KeyId } = await c.CreateKey({ Alias: `ext-${n++}`, Type: 2 });
    const p = await c.GetParametersForImport({ KeyId: KeyId!, WrappingAlgorithm: 'RSAES_OAEP_SHA_1', WrappingKeySpec: 'RSA_2048' });
    const wrapped = crypto.publicEncrypt({ key: crypto.createPublicKey({ key: Buffer.from(p.PublicKey!, 'base64'), format: 'der', type: 'spki' }), padding: crypto.constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha1' }, crypto.randomBytes(32));
    await c.ImportKeyMaterial({ KeyId: KeyId!, ImportToken: p.ImportToken!, EncryptedKeyMaterial: wrapped.toString('base64') });
  };
  const loops = [
    loop(() => c.CreateKey({ Alias: `new-${n++}` })),
    loop(() => c.CreateKey({ Alias: `new-${n++}` })),
    ...rotating.map((KeyId) => loop(() => c.RotateKey({ KeyId }))),
    loop(importOne),
    loop(importOne),
  ];
  await new Promise((r) => setTimeout(r, 1500 + Math.random() * 500));
  const pids = kms.processIds();
  expect(pids.length).toBe(3);
  for (const pid of pids) process.kill(pid, 'SIGKILL');
  running = false;
  await Promise.all(loops);
  expect(await msUntil(async () => pids.every((pid) => !fs.existsSync(`/proc/${pid}`)), 5000)).toBeLessThan(5000);
  expect(answered.length).toBeGreaterThan(0);

  // Every row's object is on the token; in wrapped storage, every row has its blob instead.
  if (WRAPPED) expect(await sql(kms.env, 'SELECT id FROM cmk_versions WHERE wrapped IS NULL')).toEqual([]);
  const owned = await ownedIds();
  let onToken = tokenIds();
  expect([...owned].filter((id) => !onToken.has(id))).toEqual([]);

  // Orphans: the crash's (if it left any) and planted ones; a foreign object is never judged.
  const planted = [`cmk ${crypto.randomUUID()} v1`, `kms import ${crypto.randomUUID()}`].map((label) => ({ id: crypto.randomUUID(), label }));
  const foreign = { id: crypto.randomUUID(), label: 'another application' };
  for (const o of [...planted, foreign]) createTokenObject(dataDir(), o.id, o.label);
  onToken = tokenIds();
  const unowned = [...onToken].filter(([id, label]) => serviceLabel(label) && !owned.has(id)).map(([id]) => id);
  expect(unowned).toEqual(expect.arrayContaining(planted.map((o) => o.id)));
  await new Promise((r) => setTimeout(r, GRACE_S * 1000)); // attempts the crash cut short are past the grace period

  const wrong = await kmsCli(kms.env, 'token', 'reconcile', '--all');
  expect(wrong.code).toBe(2);
  expect(wrong.stderr).toMatch(/unknown option '--all'/);
  const listed = await cli<Reconciled>('token', 'reconcile');
  expect(listed.Orphans.map((o) => o.Id).sort()).toEqual([...unowned].sort());
  expect(listed.Removed).toEqual([]);
  expect(tokenIds().size).toBe(onToken.size);

  const fixed = await cli<Reconciled>('token', 'reconcile', '--fix');
  expect(fixed.Removed.sort()).toEqual([...unowned].sort());
  const after = tokenIds();
  expect(unowned.filter((id) => after.has(id))).toEqual([]);
  expect(after.get(foreign.id)).toBe(foreign.label);
  expect([...owned].filter((id) => !after.has(id))).toEqual([]);
  expect((await cli<Reconciled>('token', 'reconcile')).Orphans).toEqual([]);
  expect(await sql(kms.env, 'SELECT id FROM pending_materials')).toEqual([]);

  // Restarted, the service serves every key, and its job removes a new orphan by itself.
  await kms.launch();
  for (const KeyId of rotating) expect((await c.Encrypt({ KeyId, Plaintext: b64('after the crash') })).CiphertextBlob).toBeTruthy();
  const late = { id: crypto.randomUUID(), label: `cmk ${crypto.randomUUID()} v3` };
  createTokenObject(dataDir(), late.id, late.label);
  // The killed processes may hold the job's lease for up to 30 s after their last run (max(5 x KMS_JOB_INTERVAL_MS, 30 s)).
  expect(await msUntil(async () => !tokenIds().has(late.id), 40_000, 250)).toBeLessThan(40_000);
  const keyId = late.label.split(' ')[1];
  const recorded = async () => (await sql<{ keys: string }>(kms.env, "SELECT keys FROM audit_records WHERE face = 'service' AND action = 'token-reconcile'")).some((r) => r.keys.split(' ').includes(`${keyId}/v3`));
  expect(await msUntil(recorded, 10_000, 250)).toBeLessThan(10_000);
  expect(tokenIds().get(foreign.id)).toBe(foreign.label);
}, 120_000);

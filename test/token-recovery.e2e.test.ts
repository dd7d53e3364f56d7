import { ChildProcess } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as pkcs11 from 'pkcs11js';
import { CKR_ACTION_PROHIBITED } from '../src/hsm/token-copy';
import { WRAPPED } from './support/key-storage';
import { Credential, Exited, freePort, healthStatus, KmsService, runToExit } from './support/kms-service';
import { UNPLUGGABLE_PIN, UnpluggableToken, unpluggableToken } from './support/unpluggable-token';
import { b64, codeOf, kmsClient } from './support/tencent-client';
import { msUntil } from './support/wait';

/**
 * The token goes away under load and comes back: meanwhile requests fail fast with
 * UnsupportedOperation.ServiceTemporaryUnavailable; afterwards they succeed again, in the
 * same service processes. The token is a SoftHSM token behind test/support/unpluggable-pkcs11.c.
 */

const UNAVAILABLE = 'UnsupportedOperation.ServiceTemporaryUnavailable';

let token: UnpluggableToken;
let kms: KmsService;
let cred: Credential;

beforeAll(async () => {
  token = unpluggableToken('kms-unplug', 500);
  kms = await KmsService.start({ workers: 2, env: { KMS_HSM_PROFILE: token.profile, KMS_HSM_PIN: UNPLUGGABLE_PIN, KMS_LOG_LEVEL: 'info', KMS_RATE_LIMITS: 'off' } });
  cred = await kms.createAccount('unplug');
});
afterAll(async () => {
  await kms.stop();
  token.remove();
});

interface Sample {
  at: number;
  ms: number;
  code: string;
}

it('fails fast while the token is away and recovers without a restart', async () => {
  const c = kmsClient(kms.endpoint, cred);
  const { KeyId } = await c.CreateKey({ Alias: 'survivor' });
  const before = (await c.Encrypt({ KeyId: KeyId!, Plaintext: b64('kept') })).CiphertextBlob!;
  const pidsBefore = kms.processIds().sort();
  expect(pidsBefore).toHaveLength(3);

  const samples: Sample[] = [];
  let running = true;
  const worker = async () => {
    while (running) {
      const t0 = Date.now();
      const code = await codeOf(c.Encrypt({ KeyId: KeyId!, Plaintext: b64('load') }));
      samples.push({ at: t0, ms: Date.now() - t0, code });
    }
  };
  const load = Array.from({ length: 8 }, worker);
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

  await sleep(1000);
  const unpluggedAt = Date.now();
  token.unplug();
  await sleep(2000);
  // While away: the other token operations fail fast too, and health says so.
  expect(await codeOf(c.CreateKey({ Alias: 'while-away' }))).toBe(UNAVAILABLE);
  expect(await codeOf(c.GenerateRandom({ NumberOfBytes: 8 }))).toBe(UNAVAILABLE);
  expect(await codeOf(c.Decrypt({ CiphertextBlob: before }))).toBe(UNAVAILABLE);
  expect((await fetch(`http://${kms.endpoint}/_kms/health`)).status).toBe(503);
  const pluggedAt = Date.now();
  token.plugIn();
  // From 2 s after the return, at least 21 answers: on a loaded machine 8 loops made 20 in 1 s.
  await sleep(3000);
  for (const until = Date.now() + 20_000; samples.filter((s) => s.at > pluggedAt + 2000).length <= 20 && Date.now() < until; ) await sleep(100);
  running = false;
  await Promise.all(load);

  const codes = new Set(samples.map((s) => s.code));
  expect([...codes].sort()).toEqual(['OK', UNAVAILABLE].sort());
  const away = samples.filter((s) => s.at > unpluggedAt + 100 && s.at + s.ms < pluggedAt);
  expect(away.length).toBeGreaterThan(50);
  expect(away.every((s) => s.code === UNAVAILABLE)).toBe(true);
  // Fast: nothing waits for the token to come back (2 s away; `away` holds only calls answered
  // before it did). The bounds leave room for a loaded CI machine, where a refused request took
  // 248 ms at the median once.
  const slow = away.map((s) => s.ms).sort((x, y) => x - y);
  expect(slow[Math.floor(slow.length * 0.5)]).toBeLessThan(500);
  expect(slow[Math.floor(slow.length * 0.99)]).toBeLessThan(1500);
  const firstOkAfter = samples.find((s) => s.at > pluggedAt && s.code === 'OK');
  expect(firstOkAfter).toBeDefined();
  expect(firstOkAfter!.at - pluggedAt).toBeLessThan(2000);
  const tail = samples.filter((s) => s.at > pluggedAt + 2000);
  expect(tail.length).toBeGreaterThan(20);
  expect(tail.every((s) => s.code === 'OK')).toBe(true);

  // Same processes, same keys: old ciphertexts still open.
  expect(Buffer.from((await c.Decrypt({ CiphertextBlob: before })).Plaintext!, 'base64').toString()).toBe('kept');
  expect(kms.processIds().sort()).toEqual(pidsBefore);
  expect(kms.logs).toMatch(/hsm token unavailable/);
  expect(kms.logs).toMatch(/hsm token available again/);
  expect(kms.logs).not.toContain(UNPLUGGABLE_PIN);
}, 60_000);

describe('a token that fails to copy an object to itself (token key storage: wrapped storage copies nothing)', () => {
  const itCopies = WRAPPED ? it.skip : it;
  afterEach(() => token.copyAgain());
  /** How many times each process logged that the token does not copy. */
  const copyWarnings = () => {
    const byPid = new Map<number, number>();
    for (const line of kms.logs.split('\n').filter((l) => l.includes('the hsm token does not copy a key to itself; keys are made in place'))) {
      const pid = (JSON.parse(line) as { pid: number }).pid;
      byPid.set(pid, (byPid.get(pid) ?? 0) + 1);
    }
    return byPid;
  };

  itCopies('answers retry-later, not an internal error, when the token goes away as imported material is copied to it; the import works once it is back', async () => {
    const c = kmsClient(kms.endpoint, cred);
    const KeyId = (await c.CreateKey({ Alias: 'copy-gone', Type: 2 })).KeyId!;
    const p = await c.GetParametersForImport({ KeyId, WrappingAlgorithm: 'RSAES_OAEP_SHA_1', WrappingKeySpec: 'RSA_2048' });
    const wrapped = crypto.publicEncrypt({ key: crypto.createPublicKey({ key: Buffer.from(p.PublicKey!, 'base64'), format: 'der', type: 'spki' }), padding: crypto.constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha1' }, crypto.randomBytes(32));
    const importing = () => codeOf(c.ImportKeyMaterial({ KeyId, ImportToken: p.ImportToken!, EncryptedKeyMaterial: wrapped.toString('base64') }));
    // C_CopyObject's failures are plain Errors in pkcs11js 2.1; this one was answered InternalError.
    token.refuseCopy(pkcs11.CKR_DEVICE_REMOVED);
    expect(await importing()).toBe(UNAVAILABLE);
    token.copyAgain();
    // The worker reloads the module (every 500 ms at most); the refused attempt used up nothing.
    expect(await msUntil(async () => (await importing()) === 'OK', 15_000, 100)).toBeLessThan(Infinity);
    expect((await c.DescribeKey({ KeyId })).KeyMetadata!.KeyState).toBe('Enabled');
  }, 30_000);

  itCopies('imports key material in place on a token that will not copy a key to itself; only the same material comes back', async () => {
    const c = kmsClient(kms.endpoint, cred);
    const KeyId = (await c.CreateKey({ Alias: 'import-in-place', Type: 2 })).KeyId!;
    const material = crypto.randomBytes(32);
    const importing = async (m: Buffer) => {
      const p = await c.GetParametersForImport({ KeyId, WrappingAlgorithm: 'RSAES_OAEP_SHA_1', WrappingKeySpec: 'RSA_2048' });
      const wrapped = crypto.publicEncrypt({ key: crypto.createPublicKey({ key: Buffer.from(p.PublicKey!, 'base64'), format: 'der', type: 'spki' }), padding: crypto.constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha1' }, m);
      // Refused only now, as a policy would: the import token's wrapping pair was made (and copied) before.
      token.refuseCopy(CKR_ACTION_PROHIBITED);
      return codeOf(c.ImportKeyMaterial({ KeyId, ImportToken: p.ImportToken!, EncryptedKeyMaterial: wrapped.toString('base64') }));
    };
    expect(await importing(material)).toBe('OK');
    // Only the import met the refusal, and went on in place.
    expect(copyWarnings().size).toBe(1);
    const blob = (await c.Encrypt({ KeyId, Plaintext: b64('made in place') })).CiphertextBlob!;
    expect(Buffer.from((await c.Decrypt({ CiphertextBlob: blob })).Plaintext!, 'base64').toString()).toBe('made in place');

    // The token object holds the material itself: other material is refused, the same opens the old ciphertext.
    await c.DeleteImportedKeyMaterial({ KeyId });
    token.copyAgain();
    expect(await importing(crypto.randomBytes(32))).toBe('InvalidParameterValue.MaterialNotMatch');
    token.copyAgain();
    expect(await importing(material)).toBe('OK');
    expect(Buffer.from((await c.Decrypt({ CiphertextBlob: blob })).Plaintext!, 'base64').toString()).toBe('made in place');
    expect((await c.DescribeKey({ KeyId })).KeyMetadata!.KeyState).toBe('Enabled');
  }, 30_000);

  itCopies('makes key pairs in place on a token that will not copy a private key to itself, and logs it once a worker', async () => {
    const c = kmsClient(kms.endpoint, cred);
    token.refuseCopy(pkcs11.CKR_FUNCTION_NOT_SUPPORTED);
    for (let i = 0; i < 4; i++) {
      const KeyId = (await c.CreateKey({ Alias: `in-place-${i}`, KeyUsage: 'ASYMMETRIC_SIGN_VERIFY_ECC' })).KeyId!;
      const key = crypto.createPublicKey({ key: Buffer.from((await c.GetPublicKey({ KeyId })).PublicKey!, 'base64'), format: 'der', type: 'spki' });
      const signature = Buffer.from((await c.SignByAsymmetricKey({ KeyId, Algorithm: 'ECC_P256_R1', Message: b64(`in place ${i}`), MessageType: 'RAW' })).Signature!, 'base64');
      expect(crypto.verify('sha256', Buffer.from(`in place ${i}`), key, signature)).toBe(true);
    }
    // Two workers: each learns it once, on its first refused copy (here or in the test above).
    const warnings = copyWarnings();
    expect(warnings.size).toBeGreaterThanOrEqual(1);
    expect([...warnings.values()].every((n) => n === 1)).toBe(true);
  }, 30_000);
});

it('moves wrapped material into a token that will not copy a key to itself: unwrapped there in place, and back again', async () => {
  const wrapped = await KmsService.start({ env: { KMS_HSM_PROFILE: token.profile, KMS_HSM_PIN: UNPLUGGABLE_PIN, KMS_KEY_STORAGE: 'wrapped', KMS_LOG_LEVEL: 'info', KMS_RATE_LIMITS: 'off' } });
  try {
    const c = kmsClient(wrapped.endpoint, await wrapped.createAccount('migrate-in-place'));
    const aes = (await c.CreateKey({ Alias: 'migrated-aes' })).KeyId!;
    const blob = (await c.Encrypt({ KeyId: aes, Plaintext: b64('moved in place') })).CiphertextBlob!;
    const signer = (await c.CreateKey({ Alias: 'migrated-signer', KeyUsage: 'ASYMMETRIC_SIGN_VERIFY_ECC' })).KeyId!;
    const publicKey = crypto.createPublicKey({ key: Buffer.from((await c.GetPublicKey({ KeyId: signer })).PublicKey!, 'base64'), format: 'der', type: 'spki' });
    const stillWorks = async () => {
      expect(Buffer.from((await c.Decrypt({ CiphertextBlob: blob })).Plaintext!, 'base64').toString()).toBe('moved in place');
      const signature = (await c.SignByAsymmetricKey({ KeyId: signer, Algorithm: 'ECC_P256_R1', Message: b64('moved'), MessageType: 'RAW' })).Signature!;
      expect(crypto.verify('sha256', Buffer.from('moved'), publicKey, Buffer.from(signature, 'base64'))).toBe(true);
    };
    // SoftHSM's own answer to a copy it will not make (of an object that is not modifiable).
    token.refuseCopy(pkcs11.CKR_ATTRIBUTE_READ_ONLY);
    const out = await runToExit({ ...wrapped.env, KMS_LOG_LEVEL: 'info' }, { args: ['token', 'migrate', '--to', 'token'] });
    expect(out.code).toBe(0);
    expect(out.text).toMatch(/"To": "token",\s*"Moved": 2,\s*"Kept": 0/);
    expect(out.text.match(/the hsm token does not copy a key to itself; keys are made in place/g)).toHaveLength(1);
    await stillWorks();
    // Made in place as a copy would have been: sensitive, extractable only by a trusted key, so it can move back.
    // (The token holds the other services' CMKs too.)
    const moved = (await wrapped.cli<Array<{ label: string; sensitive: boolean; extractable: boolean; wrapWithTrusted: boolean }>>('token', 'audit')).filter((o) => o.label === `cmk ${aes} v1` || o.label === `cmk ${signer} v1`);
    expect(moved).toHaveLength(2);
    for (const o of moved) expect(o).toMatchObject({ sensitive: true, extractable: true, wrapWithTrusted: true });
    expect(await wrapped.cli('token', 'migrate', '--to', 'wrapped')).toEqual({ To: 'wrapped', Moved: 2, Kept: 0 });
    await stillWorks();
  } finally {
    token.copyAgain();
    await wrapped.stop();
  }
}, 60_000);

/** `kms serve` on the unpluggable token, to its exit (see runToExit). */
const serve = (env: Record<string, string>, watch?: (text: string, p: ChildProcess) => void): Promise<Exited> => runToExit({ KMS_HSM_PROFILE: token.profile, KMS_LOG_LEVEL: 'info', ...env }, { watch });

it('refuses to start with a wrong PIN, and does not retry it', async () => {
  const out = await serve({ KMS_DATA_DIR: path.join(token.dir, 'data-wrong-pin'), KMS_HSM_PIN: 'wrong-pin' });
  expect(out.code).toBe(1);
  expect(out.text).toMatch(/CKR_PIN_INCORRECT/);
  expect(out.text).not.toContain('wrong-pin');
  expect(out.text.match(/CKR_PIN_INCORRECT/g)).toHaveLength(1);
});

describe('a token away at start', () => {
  afterEach(() => token.plugIn());

  it('is tried again a few times: a token back meanwhile is used', async () => {
    token.unplug();
    const port = await freePort();
    let healthy = false;
    const out = await serve({ KMS_DATA_DIR: path.join(token.dir, 'data-late'), KMS_PORT: String(port), KMS_HSM_PIN: UNPLUGGABLE_PIN }, (text, p) => {
      if (!/hsm token not usable yet; trying again/.test(text) || !fs.existsSync(path.join(token.dir, 'unplugged'))) return;
      token.plugIn();
      void msUntil(() => healthStatus(`127.0.0.1:${port}`).then((s) => s === 200, () => false), 20_000, 50).then((ms) => {
        healthy = ms < Infinity;
        p.kill('SIGTERM');
      });
    });
    expect(healthy).toBe(true);
    expect(out.text).toMatch(/CKR_DEVICE_REMOVED/);
  }, 30_000);

  it('makes `kms serve` exit with its error once the tries are spent', async () => {
    token.unplug();
    const out = await serve({ KMS_DATA_DIR: path.join(token.dir, 'data-away'), KMS_HSM_PIN: UNPLUGGABLE_PIN });
    expect(out.code).toBe(1);
    // Five tries: four warnings, then the error.
    expect(out.text.match(/hsm token not usable yet; trying again/g)).toHaveLength(4);
    // The error that stops it: a line of the service's JSON log like the warnings, not Nest's coloured dump.
    const lines = out.text.trim().split('\n');
    expect(lines).toHaveLength(5);
    expect(JSON.parse(lines[4])).toMatchObject({ level: 'error', msg: expect.stringMatching(/CKR_DEVICE_REMOVED/), error: 'HsmError' });
    expect(out.text).not.toContain(UNPLUGGABLE_PIN);
  }, 30_000);
});

it('stays down when the token comes back refusing the PIN: it does not try the PIN again until a restart', async () => {
  const alone = await KmsService.start({ env: { KMS_HSM_PROFILE: token.profile, KMS_HSM_PIN: UNPLUGGABLE_PIN, KMS_LOG_LEVEL: 'info', KMS_RATE_LIMITS: 'off' } });
  try {
    const c = kmsClient(alone.endpoint, await alone.createAccount('pin-changed'));
    const { KeyId } = await c.CreateKey({ Alias: 'pin-changed' });
    token.unplug();
    token.refuseLogin();
    expect(await codeOf(c.Encrypt({ KeyId: KeyId!, Plaintext: b64('x') }))).toBe(UNAVAILABLE);
    token.plugIn();
    expect(await msUntil(async () => /hsm login refused; not retrying/.test(alone.logs), 10_000, 50)).toBeLessThan(Infinity);
    // The PIN would work again now; the service does not try it (a token may lock after a few refusals).
    token.acceptLogin();
    await new Promise((r) => setTimeout(r, 1200)); // more than two reload intervals (500 ms)
    expect(await codeOf(c.Encrypt({ KeyId: KeyId!, Plaintext: b64('x') }))).toBe(UNAVAILABLE);
    expect(await healthStatus(alone.endpoint)).toBe(503);
    expect(alone.logs.match(/hsm login refused; not retrying/g)).toHaveLength(1);
    expect(alone.logs).not.toMatch(/hsm token available again/);
    expect(alone.logs).not.toContain(UNPLUGGABLE_PIN);
  } finally {
    token.plugIn();
    token.acceptLogin();
    await alone.stop();
  }
}, 30_000);

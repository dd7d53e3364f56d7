import { Credential, KmsService } from './support/kms-service';
import { b64, codeOf, kmsClient } from './support/tencent-client';
import { msUntil } from './support/wait';

/**
 * Two instances on one database and token: a change made through one reaches the other within a
 * second, and every worker of the instance that made it before the write is answered.
 */

let a: KmsService;
let b: KmsService;
let cred: Credential;

beforeAll(async () => {
  a = await KmsService.start({ workers: 2 });
  b = await KmsService.start({ workers: 2, shareWith: a });
  cred = await a.createAccount('shared');
});
afterAll(async () => {
  await b.stopProcess();
  await a.stop();
});

it('serves a key created on one instance from the other', async () => {
  const { KeyId } = await kmsClient(a.endpoint, cred).CreateKey({ Alias: 'made-on-a' });
  const enc = await kmsClient(b.endpoint, cred).Encrypt({ KeyId: KeyId!, Plaintext: b64('x') });
  const dec = await kmsClient(a.endpoint, cred).Decrypt({ CiphertextBlob: enc.CiphertextBlob! });
  expect(Buffer.from(dec.Plaintext!, 'base64').toString()).toBe('x');
});

it('applies DisableKey and EnableKey on the other instance within one second', async () => {
  const ca = kmsClient(a.endpoint, cred);
  const cb = kmsClient(b.endpoint, cred);
  const { KeyId } = await ca.CreateKey({ Alias: 'toggled' });
  // Warm every worker's cache of instance B.
  for (let i = 0; i < 8; i++) await cb.Encrypt({ KeyId: KeyId!, Plaintext: b64('warm') });
  await ca.DisableKey({ KeyId: KeyId! });
  const disabled = await msUntil(async () => (await codeOf(cb.Encrypt({ KeyId: KeyId!, Plaintext: b64('x') }))) === 'ResourceUnavailable.CmkDisabled');
  expect(disabled).toBeLessThan(1000);
  await ca.EnableKey({ KeyId: KeyId! });
  const enabled = await msUntil(async () => (await codeOf(cb.Encrypt({ KeyId: KeyId!, Plaintext: b64('x') }))) === 'OK');
  expect(enabled).toBeLessThan(1000);
});

it('within an instance, answers a write only once every worker has dropped what it changed', async () => {
  const ca = kmsClient(a.endpoint, cred);
  const { KeyId } = await ca.CreateKey({ Alias: 'read-your-writes' });
  // Each request on a connection of its own: the primary deals them to both workers in turn.
  for (let i = 0; i < 8; i++) await ca.Encrypt({ KeyId: KeyId!, Plaintext: b64('warm') });
  const encrypts = async () => Promise.all(Array.from({ length: 6 }, () => codeOf(ca.Encrypt({ KeyId: KeyId!, Plaintext: b64('x') }))));
  for (let round = 0; round < 3; round++) {
    await ca.DisableKey({ KeyId: KeyId! });
    expect(await encrypts()).toEqual(Array(6).fill('ResourceUnavailable.CmkDisabled'));
    await ca.EnableKey({ KeyId: KeyId! });
    expect(await encrypts()).toEqual(Array(6).fill('OK'));
  }
});

it('accepts a credential created by the CLI on every instance, after a miss was cached', async () => {
  const fresh = await a.cli<Credential>('credential', 'create', '--account', cred.Uin);
  const took = await msUntil(async () => (await codeOf(kmsClient(b.endpoint, fresh).GetRegions())) === 'OK');
  expect(took).toBeLessThan(1000);
});

import { Credential, KmsService } from './support/kms-service';
import { b64, codeOf, kmsClient } from './support/tencent-client';
import { msUntil } from './support/wait';

/**
 * The change feed under write load: more events inside its re-read window than one page
 * holds. KMS_CHANGE_FEED_PAGE makes the page 20 events here (5,000 by default), so a few
 * dozen writes stand for the hundreds per second a busy deployment makes.
 */

let a: KmsService;
let b: KmsService;
let cred: Credential;

beforeAll(async () => {
  a = await KmsService.start({ workers: 1, env: { KMS_CHANGE_FEED_PAGE: '20' } });
  b = await KmsService.start({ workers: 1, shareWith: a });
  cred = await a.createAccount('feed-load');
});
afterAll(async () => {
  await b?.stopProcess();
  await a?.stop();
});

it('applies a change on the other instance within a second after more events than a page', async () => {
  const ca = kmsClient(a.endpoint, cred);
  const cb = kmsClient(b.endpoint, cred);
  const { KeyId } = await ca.CreateKey({ Alias: 'watched' });
  const { KeyId: busy } = await ca.CreateKey({ Alias: 'busy' });
  await cb.Encrypt({ KeyId: KeyId!, Plaintext: b64('warm') });
  // Three pages of events, all inside the window the feed re-reads for late commits.
  for (let i = 0; i < 60; i++) await ca.UpdateKeyDescription({ KeyId: busy!, Description: `write ${i}` });
  await ca.DisableKey({ KeyId: KeyId! });
  const disabled = await msUntil(async () => (await codeOf(cb.Encrypt({ KeyId: KeyId!, Plaintext: b64('x') }))) === 'ResourceUnavailable.CmkDisabled');
  expect(disabled).toBeLessThan(1000);
  // And the feed keeps moving while the writes go on.
  const writes = (async () => {
    for (let i = 0; i < 40; i++) await ca.UpdateKeyDescription({ KeyId: busy!, Description: `more ${i}` });
  })();
  await ca.EnableKey({ KeyId: KeyId! });
  const enabled = await msUntil(async () => (await codeOf(cb.Encrypt({ KeyId: KeyId!, Plaintext: b64('x') }))) === 'OK');
  await writes;
  expect(enabled).toBeLessThan(1000);
}, 60_000);

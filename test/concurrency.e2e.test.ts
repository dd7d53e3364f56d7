import { KmsService } from './support/kms-service';
import { b64, codeOf, kmsClient } from './support/tencent-client';

/** Many writes at once in one worker: each committed or refused as a whole, none mixed up (SQLite has one connection per process). */

let kms: KmsService;
beforeAll(async () => {
  kms = await KmsService.start({ workers: 1, env: { KMS_RATE_LIMITS: 'off' } });
});
afterAll(() => kms.stop());

it('keeps concurrent transactions apart', async () => {
  const cred = await kms.createAccount('concurrent');
  const c = kmsClient(kms.endpoint, cred);
  // Pairs of creates race for the same alias: exactly one of each pair may win.
  const aliases = Array.from({ length: 20 }, (_, i) => `race-${i % 10}`);
  const created = await Promise.all(aliases.map(async (Alias) => ({ Alias, r: await c.CreateKey({ Alias }).then((k) => k.KeyId!, (e: { code: string }) => e.code) })));
  const winners = created.filter((x) => /^[0-9a-f-]{36}$/.test(x.r));
  expect(winners).toHaveLength(10);
  expect(created.filter((x) => x.r === 'InvalidParameterValue.AliasAlreadyExists')).toHaveLength(10);
  // Every winner is really there, usable, and listed; no loser left anything behind.
  const listed = (await c.ListKeys({ Limit: 200 })).Keys!.map((k) => k.KeyId).sort();
  expect(listed).toEqual(winners.map((w) => w.r).sort());
  // State changes racing with each other on the same keys.
  await Promise.all(winners.flatMap((w) => [codeOf(c.DisableKey({ KeyId: w.r })), codeOf(c.UpdateKeyDescription({ KeyId: w.r, Description: `d-${w.Alias}` })), codeOf(c.Encrypt({ KeyId: w.r, Plaintext: b64('x') }))]));
  for (const w of winners) expect((await c.DescribeKey({ KeyId: w.r })).KeyMetadata).toMatchObject({ KeyState: 'Disabled', Description: `d-${w.Alias}` });
});

it('never leaves a key both bound and pending deletion, however bind and deletion race', async () => {
  const cred = await kms.createAccount('bind-race');
  const c = kmsClient(kms.endpoint, cred);
  for (let i = 0; i < 10; i++) {
    const KeyId = (await c.CreateKey({ Alias: `bind-race-${i}` })).KeyId!;
    await c.DisableKey({ KeyId });
    await Promise.all([codeOf(c.BindCloudResource({ KeyId, ProductId: 'cbs', ResourceId: 'disk' })), codeOf(c.ScheduleKeyDeletion({ KeyId, PendingWindowInDays: 7 }))]);
    const state = (await c.DescribeKey({ KeyId })).KeyMetadata!.KeyState;
    const bound = (await codeOf(c.UnbindCloudResource({ KeyId, ProductId: 'cbs', ResourceId: 'disk' }))) === 'OK';
    expect([state, bound]).not.toEqual(['PendingDelete', true]);
  }
});

it('answers the next call with its own committed change while other calls reload the key', async () => {
  const c = kmsClient(kms.endpoint, await kms.createAccount('read-own-write'));
  const KeyId = (await c.CreateKey({ Alias: 'flip' })).KeyId!;
  // Encrypt calls keep reloading the key while DisableKey and EnableKey commit; a reload
  // that ran between the cache drop and the commit must not outlive the commit.
  let stop = false;
  const readers = Array.from({ length: 4 }, async () => {
    while (!stop) await codeOf(c.Encrypt({ KeyId, Plaintext: b64('x') }));
  });
  const seen: string[] = [];
  for (let i = 0; i < 30; i++) {
    await c.DisableKey({ KeyId });
    seen.push(await codeOf(c.Encrypt({ KeyId, Plaintext: b64('x') })));
    await c.EnableKey({ KeyId });
    seen.push(await codeOf(c.Encrypt({ KeyId, Plaintext: b64('x') })));
  }
  stop = true;
  await Promise.all(readers);
  expect(seen).toEqual(Array.from({ length: 30 }, () => ['ResourceUnavailable.CmkDisabled', 'OK']).flat());
});

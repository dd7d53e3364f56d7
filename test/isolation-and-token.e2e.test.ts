import * as fs from 'node:fs';
import * as path from 'node:path';
import { Client as Pg } from 'pg';
import { drainTokenObjects, fillTokenObjects } from './support/embedded-token';
import { storedLabels, WRAPPED } from './support/key-storage';
import { CliAnswer, Credential, KmsService, kmsCli } from './support/kms-service';
import { b64, codeOf, kmsClient } from './support/tencent-client';

let kms: KmsService;
let alice: Credential;
let bob: Credential;

beforeAll(async () => {
  kms = await KmsService.start({ workers: 2 });
  alice = await kms.createAccount('alice');
  bob = await kms.createAccount('bob');
});
afterAll(() => kms.stop());

const NOT_FOUND = 'ResourceUnavailable.CmkNotFound';

describe('isolation', () => {
  it("keeps one account's keys away from another account", async () => {
    const a = kmsClient(kms.endpoint, alice);
    const b = kmsClient(kms.endpoint, bob);
    const { KeyId } = await a.CreateKey({ Alias: 'shared-name' });
    const blob = (await a.Encrypt({ KeyId: KeyId!, Plaintext: b64('alice only') })).CiphertextBlob!;
    expect(await codeOf(b.DescribeKey({ KeyId: KeyId! }))).toBe(NOT_FOUND);
    expect(await codeOf(b.DescribeKeys({ KeyIds: [KeyId!] }))).toBe(NOT_FOUND);
    expect(await codeOf(b.Encrypt({ KeyId: KeyId!, Plaintext: b64('x') }))).toBe(NOT_FOUND);
    expect(await codeOf(b.Decrypt({ CiphertextBlob: blob }))).toBe(NOT_FOUND);
    expect(await codeOf(b.DisableKey({ KeyId: KeyId! }))).toBe(NOT_FOUND);
    expect(await codeOf(b.EnableKey({ KeyId: KeyId! }))).toBe(NOT_FOUND);
    expect((await b.ListKeys({ Limit: 200 })).Keys!.map((k) => k.KeyId)).not.toContain(KeyId);
    // Aliases are per account: bob may use the same one.
    expect(await codeOf(b.CreateKey({ Alias: 'shared-name' }))).toBe('OK');
    expect((await a.DescribeKey({ KeyId: KeyId! })).KeyMetadata!.KeyState).toBe('Enabled');
  });

  it("keeps one region's keys away from another region of the same account", async () => {
    const gz = kmsClient(kms.endpoint, alice, { region: 'ap-guangzhou' });
    const sh = kmsClient(kms.endpoint, alice, { region: 'ap-shanghai' });
    const { KeyId } = await gz.CreateKey({ Alias: 'regional' });
    const blob = (await gz.Encrypt({ KeyId: KeyId!, Plaintext: b64('gz') })).CiphertextBlob!;
    expect(await codeOf(sh.DescribeKey({ KeyId: KeyId! }))).toBe(NOT_FOUND);
    expect(await codeOf(sh.Encrypt({ KeyId: KeyId!, Plaintext: b64('x') }))).toBe(NOT_FOUND);
    expect(await codeOf(sh.Decrypt({ CiphertextBlob: blob }))).toBe(NOT_FOUND);
    expect((await sh.ListKeys({ Limit: 200 })).Keys!.map((k) => k.KeyId)).not.toContain(KeyId);
    expect(await codeOf(sh.CreateKey({ Alias: 'regional' }))).toBe('OK');
  });

  it('gives a second credential of the same account the same keys, at once', async () => {
    const a = kmsClient(kms.endpoint, alice);
    const { KeyId } = await a.CreateKey({ Alias: 'two-creds' });
    const second = await kms.cli<Credential>('credential', 'create', '--account', alice.Uin);
    expect(second.Uin).toBe(alice.Uin);
    expect(second.SecretId).not.toBe(alice.SecretId);
    const a2 = kmsClient(kms.endpoint, second);
    expect((await a2.DescribeKey({ KeyId: KeyId! })).KeyMetadata!.KeyId).toBe(KeyId);
  });
});

describe('the token holds the keys', () => {
  it('shows every CMK as sensitive, never extractable, and its value unreadable (wrapped storage: every object the token holds instead)', async () => {
    const a = kmsClient(kms.endpoint, alice);
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push((await a.CreateKey({ Alias: `audited-${i}` })).KeyId!);
    const audit = await kms.cli<Array<{ id: string; label: string; sensitive: boolean; extractable: boolean; alwaysSensitive: boolean; neverExtractable: boolean; valueReadable: boolean }>>('token', 'audit');
    // A token object each, or a wrapped blob each and none in the token (which holds the service's keys and the KEKs).
    for (const id of ids) expect(await storedLabels(kms, id)).toEqual([`cmk ${id} v1`]);
    if (WRAPPED) expect(audit.filter((o) => o.label.startsWith('cmk '))).toHaveLength(0);
    expect(audit.length).toBeGreaterThan(WRAPPED ? 0 : ids.length);
    for (const o of audit) expect(o).toMatchObject({ sensitive: true, extractable: false, alwaysSensitive: true, neverExtractable: true, valueReadable: false });
  });

  it('lists the token while another application destroys its objects on it', async () => {
    const id = (await kmsClient(kms.endpoint, alice).CreateKey({ Alias: 'listed-meanwhile' })).KeyId!;
    fillTokenObjects(kms.env.KMS_DATA_DIR, 'another application', 200);
    const drain = await drainTokenObjects(kms.env.KMS_DATA_DIR, 'another application', 30);
    // An object found, then destroyed before it was read, used to stop the listing with CKR_OBJECT_HANDLE_INVALID.
    // Up to three audits and three reconciles while the drain goes on (at least 6 s; a loaded machine may list slower).
    const answers: CliAnswer[] = [];
    let whileDraining = 0;
    for (let i = 0; i < 3 && drain.running(); i++) {
      answers.push(await kmsCli(kms.env, 'token', 'audit'), await kmsCli(kms.env, 'token', 'reconcile'));
      if (drain.running()) whileDraining++;
    }
    await drain.stop();
    // At least one audit and one reconcile ran from start to end while objects were being destroyed.
    expect(whileDraining).toBeGreaterThan(0);
    expect(answers.filter((a) => a.code !== 0).map((a) => a.stderr)).toEqual([]);
    expect(answers.flatMap((a) => (JSON.parse(a.stdout) as { Orphans?: unknown[] }).Orphans ?? [])).toEqual([]);
    expect(await storedLabels(kms, id)).toEqual([`cmk ${id} v1`]);
  });

  it('keeps SecretKeys out of the database in plaintext', async () => {
    if (kms.env.KMS_DATABASE_URL) {
      const pg = new Pg({ connectionString: kms.env.KMS_DATABASE_URL });
      await pg.connect();
      const rows = (await pg.query('SELECT secret_id, sealed_secret FROM credentials')).rows as Array<{ sealed_secret: string }>;
      await pg.end();
      expect(rows.length).toBeGreaterThanOrEqual(2);
      const all = JSON.stringify(rows);
      for (const c of [alice, bob]) expect(all).not.toContain(c.SecretKey);
      for (const r of rows) expect(r.sealed_secret).toMatch(/^v1:/);
    } else {
      const dir = kms.env.KMS_DATA_DIR;
      const bytes = Buffer.concat(fs.readdirSync(dir).filter((f) => f.startsWith('kms.sqlite')).map((f) => fs.readFileSync(path.join(dir, f))));
      expect(bytes.length).toBeGreaterThan(0);
      for (const c of [alice, bob]) {
        expect(bytes.includes(Buffer.from(c.SecretId))).toBe(true);
        expect(bytes.includes(Buffer.from(c.SecretKey))).toBe(false);
      }
    }
  });

  it('keeps PINs in files only the owner can read', () => {
    const dir = path.join(kms.env.KMS_DATA_DIR, 'softhsm');
    for (const f of ['user.pin', 'so.pin']) expect(fs.statSync(path.join(dir, f)).mode & 0o077).toBe(0);
    expect(kms.logs).not.toContain(fs.readFileSync(path.join(dir, 'user.pin'), 'utf8').trim());
  });
});

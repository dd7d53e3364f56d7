import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { loseMaterial, WRAPPED } from './support/key-storage';
import { Credential, KmsService } from './support/kms-service';
import { send, signTc3 } from './support/signer';
import { b64, codeOf, kmsClient } from './support/tencent-client';

/** ReEncrypt: to the newest version of the same key, to another key, between contexts, and its documented errors. */

let kms: KmsService;
let root: Credential;
const INVALID_CIPHERTEXT = 'InvalidParameterValue.InvalidCiphertext';
const NOT_SUPPORTED = 'ResourceUnavailable.CmkStateNotSupport';
const DISABLED = 'ResourceUnavailable.CmkDisabled';
const NOT_FOUND = 'ResourceUnavailable.CmkNotFound';
const UNKNOWN = '00000000-0000-4000-8000-000000000000';

beforeAll(async () => {
  kms = await KmsService.start({ env: { KMS_RATE_LIMITS: 'off' } });
  root = await kms.createAccount('re-encrypt');
});
afterAll(() => kms.stop());

const c = () => kmsClient(kms.endpoint, root);
const newKey = async (Alias: string, extra: Record<string, unknown> = {}) => (await c().CreateKey({ Alias, ...extra })).KeyId!;
const encrypt = async (KeyId: string, text: string, EncryptionContext?: string) => (await c().Encrypt({ KeyId, Plaintext: b64(text), EncryptionContext })).CiphertextBlob!;
const decrypt = async (CiphertextBlob: string, EncryptionContext?: string) => Buffer.from((await c().Decrypt({ CiphertextBlob, EncryptionContext })).Plaintext!, 'base64').toString();
/** The key version a blob names (header bytes 19..22), and the key id (bytes 3..18). */
const versionOf = (blob: string) => Buffer.from(blob, 'base64').readUInt32BE(19);
const keyIdOf = (blob: string) => Buffer.from(blob, 'base64').subarray(3, 19).toString('hex');
const hex = (keyId: string) => keyId.replace(/-/g, '');
const raw = (cred: Credential, body: Record<string, unknown>) => send(signTc3(kms.endpoint, cred, { action: 'ReEncrypt', body: JSON.stringify(body) }));

describe('the same key', () => {
  it('answers the original ciphertext, not re-encrypted, while the key has not rotated and the context is the same', async () => {
    const id = await newKey('unrotated');
    const blob = await encrypt(id, 'stay', '{"table":"orders","db":"prod"}');
    const r = await c().ReEncrypt({ CiphertextBlob: blob, SourceEncryptionContext: '{"table":"orders","db":"prod"}', DestinationEncryptionContext: '{ "db": "prod", "table": "orders" }' });
    expect(r).toMatchObject({ CiphertextBlob: blob, KeyId: id, SourceKeyId: id, ReEncrypted: false });
    const plain = await encrypt(id, 'no context');
    expect(await c().ReEncrypt({ CiphertextBlob: plain })).toMatchObject({ CiphertextBlob: plain, KeyId: id, SourceKeyId: id, ReEncrypted: false });
    expect(await c().ReEncrypt({ CiphertextBlob: plain, DestinationKeyId: id, SourceEncryptionContext: '{}', DestinationEncryptionContext: '' })).toMatchObject({ CiphertextBlob: plain, ReEncrypted: false });
    expect((await c().ReEncrypt({ CiphertextBlob: plain, DestinationKeyId: '' })).ReEncrypted).toBe(false);
  });

  it('re-encrypts under the newest version after a rotation', async () => {
    const id = await newKey('rotated');
    const v1 = await encrypt(id, 'old secret', '{"a":"1"}');
    await c().RotateKey({ KeyId: id });
    await c().RotateKey({ KeyId: id });
    const r = await c().ReEncrypt({ CiphertextBlob: v1, SourceEncryptionContext: '{"a":"1"}', DestinationEncryptionContext: '{"a":"1"}' });
    expect(r).toMatchObject({ KeyId: id, SourceKeyId: id, ReEncrypted: true });
    expect(r.CiphertextBlob).not.toBe(v1);
    expect(versionOf(r.CiphertextBlob!)).toBe(3);
    expect(keyIdOf(r.CiphertextBlob!)).toBe(hex(id));
    expect(await decrypt(r.CiphertextBlob!, '{"a":"1"}')).toBe('old secret');
    // The fresh blob is current: nothing more to do.
    expect(await c().ReEncrypt({ CiphertextBlob: r.CiphertextBlob!, SourceEncryptionContext: '{"a":"1"}', DestinationEncryptionContext: '{"a":"1"}' })).toMatchObject({ CiphertextBlob: r.CiphertextBlob, ReEncrypted: false });
    // The old blob still decrypts.
    expect(await decrypt(v1, '{"a":"1"}')).toBe('old secret');
  });

  it('re-encrypts when the context changes, and the new blob opens only under the new context', async () => {
    const id = await newKey('recontext');
    const blob = await encrypt(id, 'moved', '{"tenant":"a"}');
    const r = await c().ReEncrypt({ CiphertextBlob: blob, SourceEncryptionContext: '{"tenant":"a"}', DestinationEncryptionContext: '{"tenant":"b"}' });
    expect(r).toMatchObject({ KeyId: id, SourceKeyId: id, ReEncrypted: true });
    expect(versionOf(r.CiphertextBlob!)).toBe(1);
    expect(await decrypt(r.CiphertextBlob!, '{"tenant":"b"}')).toBe('moved');
    expect(await codeOf(c().Decrypt({ CiphertextBlob: r.CiphertextBlob!, EncryptionContext: '{"tenant":"a"}' }))).toBe(INVALID_CIPHERTEXT);
    // No destination context: the new blob has none.
    const bare = await c().ReEncrypt({ CiphertextBlob: blob, SourceEncryptionContext: '{"tenant":"a"}' });
    expect(bare.ReEncrypted).toBe(true);
    expect(await decrypt(bare.CiphertextBlob!)).toBe('moved');
    // And the other way round.
    const plain = await encrypt(id, 'gains a context');
    const ctx = await c().ReEncrypt({ CiphertextBlob: plain, DestinationEncryptionContext: '{"tenant":"c"}' });
    expect(ctx.ReEncrypted).toBe(true);
    expect(await decrypt(ctx.CiphertextBlob!, '{"tenant":"c"}')).toBe('gains a context');
  });
});

describe('another key', () => {
  it('re-encrypts under the destination key, its newest version and context', async () => {
    const src = await newKey('source');
    const dst = await newKey('destination');
    await c().RotateKey({ KeyId: dst });
    const blob = await encrypt(src, 'to move', '{"k":"v"}');
    const r = await c().ReEncrypt({ CiphertextBlob: blob, DestinationKeyId: dst, SourceEncryptionContext: '{"k":"v"}', DestinationEncryptionContext: '{"k":"w"}' });
    expect(r).toMatchObject({ KeyId: dst, SourceKeyId: src, ReEncrypted: true });
    expect(keyIdOf(r.CiphertextBlob!)).toBe(hex(dst));
    expect(versionOf(r.CiphertextBlob!)).toBe(2);
    const d = await c().Decrypt({ CiphertextBlob: r.CiphertextBlob!, EncryptionContext: '{"k":"w"}' });
    expect(d.KeyId).toBe(dst);
    expect(Buffer.from(d.Plaintext!, 'base64').toString()).toBe('to move');
    // Same context, other key: still re-encrypted.
    expect((await c().ReEncrypt({ CiphertextBlob: blob, DestinationKeyId: dst, SourceEncryptionContext: '{"k":"v"}', DestinationEncryptionContext: '{"k":"v"}' })).ReEncrypted).toBe(true);
  });

  it('moves data off an archived key, but not onto one', async () => {
    const archived = await newKey('archived-source');
    const live = await newKey('live-destination');
    const blob = await encrypt(archived, 'legacy');
    await c().ArchiveKey({ KeyId: archived });
    const r = await c().ReEncrypt({ CiphertextBlob: blob, DestinationKeyId: live });
    expect(await decrypt(r.CiphertextBlob!)).toBe('legacy');
    expect(await codeOf(c().ReEncrypt({ CiphertextBlob: blob }))).toBe(NOT_SUPPORTED);
    expect(await codeOf(c().ReEncrypt({ CiphertextBlob: await encrypt(live, 'x'), DestinationKeyId: archived }))).toBe(NOT_SUPPORTED);
  });
});

describe('errors', () => {
  let id: string;
  let blob: string;
  beforeAll(async () => {
    id = await newKey('errors');
    blob = await encrypt(id, 'guarded', '{"p":"q"}');
  });

  it('answers InvalidCiphertext for a malformed, forged or foreign-context blob, even when nothing would change', async () => {
    const bytes = Buffer.from(blob, 'base64');
    const tampered = Buffer.from(bytes);
    tampered[tampered.length - 1] ^= 1;
    const noVersion = Buffer.from(bytes);
    noVersion.writeUInt32BE(99, 19);
    for (const CiphertextBlob of ['not base64!', b64('short'), '', Buffer.from('XX' + 'a'.repeat(60)).toString('base64'), tampered.toString('base64'), noVersion.toString('base64')])
      expect([CiphertextBlob, await codeOf(c().ReEncrypt({ CiphertextBlob, SourceEncryptionContext: '{"p":"q"}' }))]).toEqual([CiphertextBlob, INVALID_CIPHERTEXT]);
    for (const SourceEncryptionContext of [undefined, '{"p":"r"}'])
      expect(await codeOf(c().ReEncrypt({ CiphertextBlob: blob, SourceEncryptionContext, DestinationEncryptionContext: SourceEncryptionContext }))).toBe(INVALID_CIPHERTEXT);
  });

  it('answers InvalidParameter for bad contexts or a mistyped parameter, MissingParameter without a blob', async () => {
    expect(await codeOf(c().ReEncrypt({ CiphertextBlob: blob, SourceEncryptionContext: 'not json' }))).toBe('InvalidParameter');
    expect(await codeOf(c().ReEncrypt({ CiphertextBlob: blob, SourceEncryptionContext: '{"p":"q"}', DestinationEncryptionContext: '[1]' }))).toBe('InvalidParameter');
    expect(await codeOf(c().ReEncrypt({ CiphertextBlob: blob, DestinationEncryptionContext: `{"x":"${'y'.repeat(1024)}"}` }))).toBe('InvalidParameter');
    expect((await raw(root, { CiphertextBlob: blob, DestinationKeyId: 42 })).code).toBe('InvalidParameter');
    expect((await raw(root, { CiphertextBlob: 7 })).code).toBe('InvalidParameter');
    expect((await raw(root, { DestinationKeyId: id })).code).toBe('MissingParameter');
    expect((await raw(root, { CiphertextBlob: blob, EncryptionContext: '{}' })).code).toBe('UnknownParameter');
  });

  it('answers InvalidKeyId and CmkNotFound for the destination, and CmkNotFound for a blob of an unknown or foreign key', async () => {
    expect(await codeOf(c().ReEncrypt({ CiphertextBlob: blob, SourceEncryptionContext: '{"p":"q"}', DestinationKeyId: 'nope' }))).toBe('InvalidParameterValue.InvalidKeyId');
    expect(await codeOf(c().ReEncrypt({ CiphertextBlob: blob, SourceEncryptionContext: '{"p":"q"}', DestinationKeyId: UNKNOWN }))).toBe(NOT_FOUND);
    const forged = Buffer.from(blob, 'base64');
    Buffer.from(hex(UNKNOWN), 'hex').copy(forged, 3);
    expect(await codeOf(c().ReEncrypt({ CiphertextBlob: forged.toString('base64'), SourceEncryptionContext: '{"p":"q"}' }))).toBe(NOT_FOUND);
    const stranger = await kms.createAccount('stranger');
    const s = kmsClient(kms.endpoint, stranger);
    const theirs = (await s.CreateKey({ Alias: 'theirs' })).KeyId!;
    expect(await codeOf(s.ReEncrypt({ CiphertextBlob: blob, SourceEncryptionContext: '{"p":"q"}' }))).toBe(NOT_FOUND);
    expect(await codeOf(c().ReEncrypt({ CiphertextBlob: blob, SourceEncryptionContext: '{"p":"q"}', DestinationKeyId: theirs }))).toBe(NOT_FOUND);
    // The other region is another place: the same key is not found there.
    expect(await codeOf(kmsClient(kms.endpoint, root, { region: 'ap-shanghai' }).ReEncrypt({ CiphertextBlob: blob, SourceEncryptionContext: '{"p":"q"}' }))).toBe(NOT_FOUND);
  });

  it('answers CmkDisabled for a disabled source or destination, CmkStateNotSupport for a key pending deletion', async () => {
    const src = await newKey('disabled-source');
    const dst = await newKey('disabled-destination');
    const own = await encrypt(src, 'x');
    await c().DisableKey({ KeyId: src });
    expect(await codeOf(c().ReEncrypt({ CiphertextBlob: own }))).toBe(DISABLED);
    expect(await codeOf(c().ReEncrypt({ CiphertextBlob: own, DestinationKeyId: id }))).toBe(DISABLED);
    await c().DisableKey({ KeyId: dst });
    expect(await codeOf(c().ReEncrypt({ CiphertextBlob: blob, SourceEncryptionContext: '{"p":"q"}', DestinationKeyId: dst }))).toBe(DISABLED);
    await c().ScheduleKeyDeletion({ KeyId: src, PendingWindowInDays: 7 });
    expect(await codeOf(c().ReEncrypt({ CiphertextBlob: own, DestinationKeyId: id }))).toBe(NOT_SUPPORTED);
    await c().ScheduleKeyDeletion({ KeyId: dst, PendingWindowInDays: 7 });
    expect(await codeOf(c().ReEncrypt({ CiphertextBlob: blob, SourceEncryptionContext: '{"p":"q"}', DestinationKeyId: dst }))).toBe(NOT_SUPPORTED);
  });

  it('needs ReEncrypt on both keys, with Decrypt on the source and Encrypt on the destination', async () => {
    const dst = await newKey('authz-destination');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kms-policy-'));
    const user = async (name: string, statement: unknown[]) => {
      const file = path.join(dir, `${name}.json`);
      fs.writeFileSync(file, JSON.stringify({ version: '2.0', statement }));
      return kmsClient(kms.endpoint, await kms.cli<Credential>('user', 'create', '--account', root.Uin, '--name', name, '--policy', file));
    };
    const res = (keyId: string) => `qcs::kms:ap-guangzhou:${root.Uin}:key/creatorUin/*/${keyId}`;
    const args = { CiphertextBlob: blob, SourceEncryptionContext: '{"p":"q"}', DestinationKeyId: dst };
    const nobody = kmsClient(kms.endpoint, await kms.cli<Credential>('user', 'create', '--account', root.Uin, '--name', 'nobody'));
    expect(await codeOf(nobody.ReEncrypt(args))).toBe('UnauthorizedOperation');
    const cryptoOnly = await user('crypto-only', [{ effect: 'allow', action: ['name/kms:Encrypt', 'name/kms:Decrypt'], resource: '*' }]);
    expect(await codeOf(cryptoOnly.ReEncrypt(args))).toBe('UnauthorizedOperation');
    const crypto = { effect: 'allow', action: ['name/kms:Encrypt', 'name/kms:Decrypt'], resource: '*' };
    const sourceOnly = await user('source-only', [{ effect: 'allow', action: 'name/kms:ReEncrypt', resource: res(id) }, crypto]);
    expect(await codeOf(sourceOnly.ReEncrypt(args))).toBe('UnauthorizedOperation');
    expect(await codeOf(sourceOnly.ReEncrypt({ CiphertextBlob: blob, SourceEncryptionContext: '{"p":"q"}' }))).toBe('OK');
    const destinationOnly = await user('destination-only', [{ effect: 'allow', action: 'name/kms:ReEncrypt', resource: res(dst) }, crypto]);
    expect(await codeOf(destinationOnly.ReEncrypt(args))).toBe('UnauthorizedOperation');
    const reEncryptOnly = await user('re-encrypt-only', [{ effect: 'allow', action: 'name/kms:ReEncrypt', resource: [res(id), res(dst)] }]);
    expect(await codeOf(reEncryptOnly.ReEncrypt(args))).toBe('UnauthorizedOperation');
    const both = await user('both', [{ effect: 'allow', action: 'name/kms:ReEncrypt', resource: [res(id), res(dst)] }, { effect: 'allow', action: 'name/kms:Decrypt', resource: res(id) }, { effect: 'allow', action: 'name/kms:Encrypt', resource: res(dst) }]);
    const r = await both.ReEncrypt(args);
    expect(r).toMatchObject({ KeyId: dst, SourceKeyId: id, ReEncrypted: true });
    expect(await decrypt(r.CiphertextBlob!)).toBe('guarded');
  });

  it('answers InternalServerError, without detail, when the token lost the key object (wrapped storage: its blob no longer unwraps)', async () => {
    const gone = await newKey('lost-object');
    const lost = await encrypt(gone, 'unreachable');
    await loseMaterial(kms, gone);
    let r = await raw(root, { CiphertextBlob: lost, DestinationKeyId: id });
    if (WRAPPED) {
      // The version is still unwrapped in the cache: a change to the key drops it on every process.
      await c().UpdateKeyDescription({ KeyId: gone, Description: 'lost' });
      for (let i = 0; i < 50 && r.code !== 'InternalServerError'; i++) {
        await new Promise((done) => setTimeout(done, 100));
        r = await raw(root, { CiphertextBlob: lost, DestinationKeyId: id });
      }
    }
    expect(r.code).toBe('InternalServerError');
    expect((r.body.Error as { Message: string }).Message).toBe(`internal error; quote RequestId ${r.body.RequestId}`);
    const logged = `"msg":"internal error","requestId":"${r.body.RequestId}","action":"ReEncrypt"`;
    for (let i = 0; i < 20 && !kms.logs.includes(logged); i++) await new Promise((done) => setTimeout(done, 100));
    expect(kms.logs).toContain(logged);
  });
});

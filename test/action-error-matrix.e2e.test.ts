import { Credential, KmsService } from './support/kms-service';
import { send, signTc3 } from './support/signer';
import { codeOf, kmsClient } from './support/tencent-client';

/**
 * The error codes every key-taking action documents, action by action: a malformed KeyId,
 * an unknown one, a mistyped one, a missing one, and a sub-user without rights.
 */

let kms: KmsService;
let root: Credential;
let nobody: Credential;

beforeAll(async () => {
  kms = await KmsService.start({ env: { KMS_RATE_LIMITS: 'off' } });
  root = await kms.createAccount('matrix');
  nobody = await kms.cli<Credential>('user', 'create', '--account', root.Uin, '--name', 'nobody');
});
afterAll(() => kms.stop());

const UNKNOWN = '00000000-0000-4000-8000-000000000000';

/** Each action with valid parameters other than the key id. */
const ACTIONS: Array<[string, (keyId: unknown) => Record<string, unknown>]> = [
  ['DescribeKey', (k) => ({ KeyId: k })],
  ['EnableKey', (k) => ({ KeyId: k })],
  ['DisableKey', (k) => ({ KeyId: k })],
  ['ArchiveKey', (k) => ({ KeyId: k })],
  ['CancelKeyArchive', (k) => ({ KeyId: k })],
  ['ScheduleKeyDeletion', (k) => ({ KeyId: k, PendingWindowInDays: 7 })],
  ['CancelKeyDeletion', (k) => ({ KeyId: k })],
  ['UpdateAlias', (k) => ({ KeyId: k, Alias: 'matrix-alias' })],
  ['UpdateKeyDescription', (k) => ({ KeyId: k, Description: 'd' })],
  ['BindCloudResource', (k) => ({ KeyId: k, ProductId: 'cbs', ResourceId: 'r' })],
  ['UnbindCloudResource', (k) => ({ KeyId: k, ProductId: 'cbs', ResourceId: 'r' })],
  ['Encrypt', (k) => ({ KeyId: k, Plaintext: 'YQ==' })],
  ['GenerateDataKey', (k) => ({ KeyId: k, KeySpec: 'AES_256' })],
  ['GenerateAsymmetricKeyPair', (k) => ({ KeyId: k, KeySpec: 'SM2' })],
  ['DescribeKeys', (k) => ({ KeyIds: [k] })],
  ['EnableKeys', (k) => ({ KeyIds: [k] })],
  ['DisableKeys', (k) => ({ KeyIds: [k] })],
];

const call = (cred: Credential, action: string, body: Record<string, unknown>) => send(signTc3(kms.endpoint, cred, { action, body: JSON.stringify(body) }));

describe.each(ACTIONS)('%s', (action, params) => {
  it('answers InvalidKeyId, CmkNotFound, InvalidParameter, MissingParameter and UnauthorizedOperation', async () => {
    expect((await call(root, action, params('not-a-key-id'))).code).toBe('InvalidParameterValue.InvalidKeyId');
    expect((await call(root, action, params(UNKNOWN))).code).toBe('ResourceUnavailable.CmkNotFound');
    expect((await call(root, action, params(42))).code).toBe('InvalidParameter');
    const { KeyId, KeyIds, ...rest } = params(UNKNOWN);
    void KeyId;
    void KeyIds;
    expect((await call(root, action, rest)).code).toBe('MissingParameter');
    const keyId = (await kmsClient(kms.endpoint, root).CreateKey({ Alias: `m-${action}` })).KeyId!;
    expect((await call(nobody, action, params(keyId))).code).toBe('UnauthorizedOperation');
  });
});

it('refuses every account-wide action to a sub-user without rights', async () => {
  for (const [action, body] of [
    ['CreateKey', { Alias: 'x' }],
    ['ListKeys', {}],
    ['ListKeyDetail', {}],
    ['GenerateRandom', { NumberOfBytes: 4 }],
    ['GetServiceStatus', {}],
    ['GetRegions', {}],
    ['ListAlgorithms', {}],
    ['DescribeTSMLicenses', {}],
  ] as Array<[string, Record<string, unknown>]>)
    expect([action, (await call(nobody, action, body)).code]).toEqual([action, 'UnauthorizedOperation']);
  expect(await codeOf(kmsClient(kms.endpoint, nobody).Decrypt({ CiphertextBlob: (await kmsClient(kms.endpoint, root).Encrypt({ KeyId: (await kmsClient(kms.endpoint, root).CreateKey({ Alias: 'm-dec' })).KeyId!, Plaintext: 'YQ==' })).CiphertextBlob! }))).toBe('UnauthorizedOperation');
});

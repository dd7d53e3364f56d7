import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { waitForRecords } from './support/audit-db';
import { HuaweiClient, Json, codeOf, rawRequest } from './support/huawei-client';
import { Credential, KmsService } from './support/kms-service';
import { answerChecker } from './support/openapi-answers';
import { kmsClient } from './support/tencent-client';

/**
 * Key tags through the REST face: add, replace, batch create and delete, delete one, list a
 * key's and the project's tags, resource_instances filter and count with matches; the same
 * tags through the Action API; every tag error code with its HTTP status; policies, isolation
 * and the audit trail.
 */
let kms: KmsService;
let cred: Credential;
let hw: HuaweiClient;
let answers: ReturnType<typeof answerChecker>;
let dir: string;

beforeAll(async () => {
  kms = await KmsService.start({ env: { KMS_RATE_LIMITS: 'off', KMS_REGIONS: 'ap-guangzhou,ap-shanghai' } });
  cred = await kms.createAccount('hw-tags');
  hw = HuaweiClient.of(kms.endpoint, cred);
  // Every answer of this file must be what the OpenAPI document says it is.
  answers = answerChecker((await rawRequest(kms.endpoint, undefined, 'GET', '/_kms/openapi/huawei.json')).body);
  HuaweiClient.onAnswer = (method, name, body) => expect(answers.check(method, name, body)).toEqual([]);
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kms-hw-tags-'));
});
afterAll(async () => {
  await kms.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

const createKey = async (c: HuaweiClient, alias: string): Promise<string> => (await c.post('create-key', { key_alias: alias })).key_info.key_id;
const tagsOf = async (keyId: string, c = hw): Promise<Json> => {
  const r = await c.get(`${keyId}/tags`);
  delete r.httpStatusCode;
  return r;
};
const filter = async (body: Json, c = hw): Promise<{ ids: string[]; total: number; resources: Json[] }> => {
  const r = await c.post('resource_instances/action', { action: 'filter', ...body });
  return { ids: r.resources.map((x: Json) => x.resource_id), total: r.total_count, resources: r.resources };
};
/** Keys made in the same second come in key id order: compare sets where that matters. */
const sorted = (ids: string[]): string[] => [...ids].sort();
const count = async (body: Json, c = hw): Promise<number> => (await c.post('resource_instances/action', { action: 'count', ...body })).total_count;
const UNKNOWN_KEY = '0d0466b0-e727-4d9c-b35d-f84bb474a37f';

describe('a key’s tags', () => {
  it('adds, replaces, batch-creates, batch-deletes and deletes tags, answering 204', async () => {
    const keyId = await createKey(hw, 'tags_basic');
    expect(await tagsOf(keyId)).toEqual({ tags: [], existTagsNum: 0, existTagNum: 0 });
    expect(await hw.post(`${keyId}/tags`, { tag: { key: 'env', value: 'dev' } })).toEqual({ httpStatusCode: 204 });
    // Adding a key that is there replaces its value.
    await hw.post(`${keyId}/tags`, { tag: { key: 'env', value: 'prod' }, sequence: '919c82d4-8046-4722-9094-35c3c6524cff' });
    expect(await hw.post(`${keyId}/tags/action`, { action: 'create', tags: [{ key: 'team', value: 'pay' }, { key: 'empty', value: '' }, { key: '键', value: '值 with spaces' }] })).toEqual({ httpStatusCode: 204 });
    expect(await tagsOf(keyId)).toEqual({
      tags: [
        { key: 'empty', value: '' },
        { key: 'env', value: 'prod' },
        { key: 'team', value: 'pay' },
        { key: '键', value: '值 with spaces' },
      ],
      existTagsNum: 4,
      existTagNum: 4,
    });
    // A deletion naming a value deletes the tag only if it has that value; absent tags are no error.
    await hw.post(`${keyId}/tags/action`, { action: 'delete', tags: [{ key: 'team', value: 'other' }, { key: 'empty', value: '' }, { key: 'never-set' }] });
    expect((await tagsOf(keyId)).tags.map((t: Json) => t.key)).toEqual(['env', 'team', '键']);
    await hw.post(`${keyId}/tags/action`, { action: 'delete', tags: [{ key: 'team' }] });
    expect(await hw.delete(`${keyId}/tags/env`)).toEqual({ httpStatusCode: 204 });
    expect(await hw.delete(`${keyId}/tags/env`)).toEqual({ httpStatusCode: 204 });
    expect((await tagsOf(keyId)).tags).toEqual([{ key: '键', value: '值 with spaces' }]);
  });

  it('deletes a tag whose key is not ASCII through the path, as the SDK sends it', async () => {
    const keyId = await createKey(hw, 'tags_encoded');
    await hw.post(`${keyId}/tags/action`, { action: 'create', tags: [{ key: '环境:prod_1', value: '1' }, { key: 'keep', value: '2' }] });
    expect(await hw.delete(`${keyId}/tags/环境:prod_1`)).toEqual({ httpStatusCode: 204 });
    expect((await tagsOf(keyId)).tags).toEqual([{ key: 'keep', value: '2' }]);
  });

  it('keeps at most 10 tags on a key (KMS.0409), counting those set through the other face', async () => {
    const tc = kmsClient(kms.endpoint, cred);
    const keyId = (await tc.CreateKey({ Alias: 'tags_ten', Tags: Array.from({ length: 8 }, (_, i) => ({ TagKey: `t${i}`, TagValue: 'v' })) })).KeyId!;
    await hw.post(`${keyId}/tags/action`, { action: 'create', tags: [{ key: 't8', value: 'v' }, { key: 't9', value: 'v' }] });
    expect(await codeOf(hw.post(`${keyId}/tags`, { tag: { key: 't10', value: 'v' } }))).toBe('400 KMS.0409');
    expect(await codeOf(hw.post(`${keyId}/tags/action`, { action: 'create', tags: [{ key: 't10', value: 'v' }] }))).toBe('400 KMS.0409');
    // Replacing a value does not add a tag; nothing of a refused batch is kept.
    await hw.post(`${keyId}/tags`, { tag: { key: 't0', value: 'new' } });
    expect(await codeOf(hw.post(`${keyId}/tags/action`, { action: 'create', tags: [{ key: 't1', value: 'changed' }, { key: 't10', value: 'v' }] }))).toBe('400 KMS.0409');
    const tags = (await tagsOf(keyId)).tags as Json[];
    expect(tags).toHaveLength(10);
    expect(tags.find((t) => t.key === 't1')!.value).toBe('v');
    expect(tags.find((t) => t.key === 't0')!.value).toBe('new');
  });

  it('holds the limit under concurrent calls: of eight adds to a key with eight tags, two succeed', async () => {
    const keyId = await createKey(hw, 'tags_race');
    await hw.post(`${keyId}/tags/action`, { action: 'create', tags: Array.from({ length: 8 }, (_, i) => ({ key: `base${i}`, value: 'v' })) });
    const results = await Promise.all(Array.from({ length: 8 }, (_, i) => codeOf(hw.post(`${keyId}/tags`, { tag: { key: `race${i}`, value: 'v' } }))));
    expect(results.filter((r) => r === 'OK')).toHaveLength(2);
    expect(results.filter((r) => r === '400 KMS.0409')).toHaveLength(6);
    expect((await tagsOf(keyId)).existTagsNum).toBe(10);
  });

  it('lists the project’s tag keys with their values, of this project only', async () => {
    const other = await kms.createAccount('hw-tags-other');
    const ohw = HuaweiClient.of(kms.endpoint, other);
    const sh = HuaweiClient.of(kms.endpoint, cred, { region: 'ap-shanghai' });
    const a = await createKey(ohw, 'proj_a');
    const b = await createKey(ohw, 'proj_b');
    const elsewhere = await createKey(sh, 'proj_sh');
    await ohw.post(`${a}/tags/action`, { action: 'create', tags: [{ key: 'env', value: 'prod' }, { key: 'team', value: 'pay' }] });
    await ohw.post(`${b}/tags/action`, { action: 'create', tags: [{ key: 'env', value: 'dev' }, { key: 'team', value: 'pay' }] });
    await sh.post(`${elsewhere}/tags`, { tag: { key: 'region-only', value: 'x' } });
    const r = await ohw.get('tags');
    expect(r.tags).toEqual([
      { key: 'env', values: ['dev', 'prod'] },
      { key: 'team', values: ['pay'] },
    ]);
    expect((await sh.get('tags')).tags).toEqual([{ key: 'region-only', values: ['x'] }]);
    expect((await hw.get('tags')).tags.some((t: Json) => t.key === 'region-only')).toBe(false);
  });
});

describe('resource_instances', () => {
  let p: HuaweiClient;
  const ids: Record<string, string> = {};

  beforeAll(async () => {
    p = HuaweiClient.of(kms.endpoint, await kms.createAccount('hw-instances'));
    for (const alias of ['app_alpha', 'app_beta', 'db_gamma', 'APP_delta', 'untagged']) ids[alias] = await createKey(p, alias);
    await p.post(`${ids.app_alpha}/tags/action`, { action: 'create', tags: [{ key: 'env', value: 'prod' }, { key: 'team', value: 'pay' }] });
    await p.post(`${ids.app_beta}/tags/action`, { action: 'create', tags: [{ key: 'env', value: 'dev' }] });
    await p.post(`${ids.db_gamma}/tags/action`, { action: 'create', tags: [{ key: 'env', value: 'prod' }, { key: 'team', value: 'data' }] });
    await p.post(`${ids.APP_delta}/tags/action`, { action: 'create', tags: [{ key: 'env', value: 'test' }] });
  });

  it('filters by tags: every tag key given, any of its values, any value when none is given', async () => {
    const found = async (body: Json) => sorted((await filter(body, p)).ids);
    expect(await found({ tags: [{ key: 'env', values: ['prod'] }] })).toEqual(sorted([ids.app_alpha, ids.db_gamma]));
    expect(await found({ tags: [{ key: 'env', values: ['prod', 'dev'] }] })).toEqual(sorted([ids.app_alpha, ids.app_beta, ids.db_gamma]));
    expect(await found({ tags: [{ key: 'env', values: [] }, { key: 'team', values: ['pay', 'data'] }] })).toEqual(sorted([ids.app_alpha, ids.db_gamma]));
    expect(await found({ tags: [{ key: 'env' }, { key: 'team', values: ['pay'] }] })).toEqual([ids.app_alpha]);
    expect(await found({ tags: [{ key: 'nobody', values: [] }] })).toEqual([]);
    expect(await found({})).toEqual(sorted(Object.values(ids)));
  });

  it('answers each key with its detail, tags and name', async () => {
    const r = await filter({ tags: [{ key: 'team', values: ['pay'] }] }, p);
    expect(r.total).toBe(1);
    expect(r.resources[0]).toEqual({
      resource_id: ids.app_alpha,
      resource_name: 'app_alpha',
      tags: [
        { key: 'env', value: 'prod' },
        { key: 'team', value: 'pay' },
      ],
      resource_detail: expect.objectContaining({ key_id: ids.app_alpha, key_alias: 'app_alpha', key_state: '2', creation_date: expect.stringMatching(/^\d+000$/) }),
    });
  });

  it('matches resource_name as a case-insensitive substring of the alias, with the tags', async () => {
    const byName = async (value: string, tags?: Json[]) => sorted((await filter({ matches: [{ key: 'resource_name', value }], ...(tags && { tags }) }, p)).ids);
    expect(await byName('app')).toEqual(sorted([ids.app_alpha, ids.app_beta, ids.APP_delta]));
    expect(await byName('app', [{ key: 'env', values: ['prod', 'test'] }])).toEqual(sorted([ids.app_alpha, ids.APP_delta]));
    // LIKE's wildcards are plain characters here.
    expect(await byName('_')).toHaveLength(4);
    expect(await byName('%')).toEqual([]);
  });

  it('pages with limit and offset (strings or numbers) and counts with "count"', async () => {
    // Oldest first, then by key id: the unfiltered list is the order every page follows.
    const all = (await filter({}, p)).ids;
    expect(sorted(all)).toEqual(sorted(Object.values(ids)));
    const first = await filter({ limit: '2', offset: '0' }, p);
    expect(first).toMatchObject({ ids: all.slice(0, 2), total: 5 });
    expect((await filter({ limit: 2, offset: 2 }, p)).ids).toEqual(all.slice(2, 4));
    expect((await filter({ limit: '2', offset: '4' }, p)).ids).toEqual(all.slice(4));
    expect((await filter({ offset: '9' }, p)).ids).toEqual([]);
    // The default page is 10 keys.
    expect((await filter({}, p)).ids).toHaveLength(5);
    expect(await count({}, p)).toBe(5);
    expect(await count({ tags: [{ key: 'env', values: ['prod'] }] }, p)).toBe(2);
    expect(await count({ tags: [{ key: 'env' }], matches: [{ key: 'resource_name', value: 'APP' }] }, p)).toBe(3);
    expect((await p.post('resource_instances/action', { action: 'count' })).resources).toEqual([]);
  });

  it('sees only the project’s keys', async () => {
    expect((await filter({ tags: [{ key: 'team' }] })).ids).not.toContain(ids.app_alpha);
    expect((await filter({}, HuaweiClient.of(kms.endpoint, cred, { region: 'ap-shanghai' }))).ids).not.toContain(ids.app_alpha);
  });
});

describe('both faces', () => {
  it('shows tags set through the REST face to ListKeyDetail’s TagFilters, and CreateKey’s Tags to the REST face', async () => {
    const tc = kmsClient(kms.endpoint, cred);
    const viaHw = await createKey(hw, 'both_hw');
    await hw.post(`${viaHw}/tags/action`, { action: 'create', tags: [{ key: 'shared', value: 'from-rest' }] });
    const listed = await tc.ListKeyDetail({ TagFilters: [{ TagKey: 'shared', TagValue: ['from-rest'] }] });
    expect(listed.KeyMetadatas!.map((k) => k.KeyId)).toEqual([viaHw]);

    const viaTc = (await tc.CreateKey({ Alias: 'both_tc', Tags: [{ TagKey: 'shared', TagValue: 'from-actions' }] })).KeyId!;
    expect((await tagsOf(viaTc)).tags).toEqual([{ key: 'shared', value: 'from-actions' }]);
    expect(sorted((await filter({ tags: [{ key: 'shared', values: ['from-actions', 'from-rest'] }] })).ids)).toEqual(sorted([viaHw, viaTc]));
    // A deletion through the REST face is seen by the Action API.
    await hw.delete(`${viaTc}/tags/shared`);
    expect((await tc.ListKeyDetail({ TagFilters: [{ TagKey: 'shared' }] })).KeyMetadatas!.map((k) => k.KeyId)).toEqual([viaHw]);
  });
});

describe('errors', () => {
  let keyId: string;
  const tagsAction = (body: Json) => hw.post(`${keyId}/tags/action`, body);
  const instances = (body: Json) => hw.post('resource_instances/action', { action: 'filter', ...body });

  beforeAll(async () => {
    keyId = await createKey(hw, 'tag_errors');
  });

  it('KMS.0204: a required field missing', async () => {
    expect(await codeOf(hw.post(`${keyId}/tags`, {}))).toBe('400 KMS.0204');
    expect(await codeOf(hw.post(`${keyId}/tags`, { tag: { key: 'k' } }))).toBe('400 KMS.0204');
    expect(await codeOf(tagsAction({ action: 'create' }))).toBe('400 KMS.0204');
    expect(await codeOf(tagsAction({ tags: [{ key: 'k', value: 'v' }] }))).toBe('400 KMS.0204');
    expect(await codeOf(tagsAction({ action: 'create', tags: [{ key: 'k' }] }))).toBe('400 KMS.0204');
    expect(await codeOf(tagsAction({ action: 'delete', tags: [{ value: 'v' }] }))).toBe('400 KMS.0204');
    expect(await codeOf(hw.post('resource_instances/action', {}))).toBe('400 KMS.0204');
    expect(await codeOf(instances({ matches: [{ key: 'resource_name' }] }))).toBe('400 KMS.0204');
  });

  it('KMS.0205: a key id of the wrong form in the path, or of no key of the project', async () => {
    const other = HuaweiClient.of(kms.endpoint, await kms.createAccount('hw-tags-stranger'));
    for (const id of ['nope', keyId.toUpperCase(), UNKNOWN_KEY]) {
      expect(await codeOf(hw.get(`${id}/tags`))).toBe('400 KMS.0205');
      expect(await codeOf(hw.post(`${id}/tags`, { tag: { key: 'k', value: 'v' } }))).toBe('400 KMS.0205');
      expect(await codeOf(hw.post(`${id}/tags/action`, { action: 'create', tags: [{ key: 'k', value: 'v' }] }))).toBe('400 KMS.0205');
      expect(await codeOf(hw.delete(`${id}/tags/k`))).toBe('400 KMS.0205');
    }
    // Another account's key is no key of this project: nothing tells the two apart.
    expect(await codeOf(other.get(`${keyId}/tags`))).toBe('400 KMS.0205');
    expect(await codeOf(other.post(`${keyId}/tags`, { tag: { key: 'k', value: 'v' } }))).toBe('400 KMS.0205');
    expect(await codeOf(other.delete(`${keyId}/tags/k`))).toBe('400 KMS.0205');
    expect((await tagsOf(keyId)).tags).toEqual([]);
  });

  it('KMS.0206: a sequence that is not 36 bytes', async () => {
    expect(await codeOf(hw.post(`${keyId}/tags`, { tag: { key: 'k', value: 'v' }, sequence: 'short' }))).toBe('400 KMS.0206');
    expect(await codeOf(instances({ sequence: 'short' }))).toBe('400 KMS.0206');
  });

  it('KMS.0308: a field this request does not have', async () => {
    expect(await codeOf(hw.post(`${keyId}/tags`, { tag: { key: 'k', value: 'v', extra: 1 } }))).toBe('400 KMS.0308');
    expect(await codeOf(instances({ resource_type: 'kms' }))).toBe('400 KMS.0308');
    expect((await rawRequest(kms.endpoint, cred, 'GET', `/v1.0/${hw.projectId}/kms/tags`, '{"a":1}')).body.error_code).toBe('KMS.0308');
  });

  it('KMS.0401: an empty tag list', async () => {
    expect(await codeOf(tagsAction({ action: 'create', tags: [] }))).toBe('400 KMS.0401');
    expect(await codeOf(tagsAction({ action: 'delete', tags: [] }))).toBe('400 KMS.0401');
  });

  it('KMS.0402: a match value empty, too long or not a string', async () => {
    for (const value of ['', 'x'.repeat(256), 7, 'nul\u0000']) expect(await codeOf(instances({ matches: [{ key: 'resource_name', value }] }))).toBe('400 KMS.0402');
  });

  it('KMS.0403: a match on another field than resource_name', async () => {
    for (const key of ['resource_id', 'RESOURCE_NAME', 1]) expect(await codeOf(instances({ matches: [{ key, value: 'x' }] }))).toBe('400 KMS.0403');
  });

  it('KMS.0404: an action other than create/delete or filter/count', async () => {
    for (const action of ['add', 'Create', '', 3]) expect(await codeOf(tagsAction({ action, tags: [{ key: 'k', value: 'v' }] }))).toBe('400 KMS.0404');
    for (const action of ['list', 'FILTER', '']) expect(await codeOf(hw.post('resource_instances/action', { action }))).toBe('400 KMS.0404');
  });

  it('KMS.0405 and KMS.0410: a tag value with a forbidden character, not a string, or over 43 characters', async () => {
    for (const value of ['a=b', 'a*', '<x>', 'back\\slash', 'tab\there', '\u0001', 12]) {
      expect(await codeOf(hw.post(`${keyId}/tags`, { tag: { key: 'k', value } }))).toBe('400 KMS.0405');
      expect(await codeOf(tagsAction({ action: 'create', tags: [{ key: 'k', value }] }))).toBe('400 KMS.0405');
      expect(await codeOf(instances({ tags: [{ key: 'k', values: [value] }] }))).toBe('400 KMS.0405');
    }
    expect(await codeOf(hw.post(`${keyId}/tags`, { tag: { key: 'k', value: 'v'.repeat(44) } }))).toBe('400 KMS.0410');
    expect(await codeOf(instances({ tags: [{ key: 'k', values: ['v'.repeat(44)] }] }))).toBe('400 KMS.0410');
    // 43 characters, counted as characters and not bytes.
    await hw.post(`${keyId}/tags`, { tag: { key: 'long', value: '值'.repeat(43) } });
    await hw.delete(`${keyId}/tags/long`);
  });

  it('KMS.0406 and KMS.0411: a tag key with a forbidden character, not a string, empty or over 36 characters', async () => {
    for (const key of ['a=b', 'a*', '<x>', 'back\\slash', 'new\nline', 12]) {
      expect(await codeOf(hw.post(`${keyId}/tags`, { tag: { key, value: 'v' } }))).toBe('400 KMS.0406');
      expect(await codeOf(tagsAction({ action: 'delete', tags: [{ key }] }))).toBe('400 KMS.0406');
      expect(await codeOf(instances({ tags: [{ key }] }))).toBe('400 KMS.0406');
    }
    expect(await codeOf(hw.delete(`${keyId}/tags/a=b`))).toBe('400 KMS.0406');
    for (const key of ['', 'k'.repeat(37)]) {
      expect(await codeOf(hw.post(`${keyId}/tags`, { tag: { key, value: 'v' } }))).toBe('400 KMS.0411');
      expect(await codeOf(instances({ tags: [{ key }] }))).toBe('400 KMS.0411');
    }
    expect(await codeOf(hw.delete(`${keyId}/tags/${'k'.repeat(37)}`))).toBe('400 KMS.0411');
  });

  it('KMS.0407: more than 10 tags in a list', async () => {
    const eleven = Array.from({ length: 11 }, (_, i) => ({ key: `k${i}`, value: 'v' }));
    expect(await codeOf(tagsAction({ action: 'create', tags: eleven }))).toBe('400 KMS.0407');
    expect(await codeOf(instances({ tags: eleven.map((t) => ({ key: t.key })) }))).toBe('400 KMS.0407');
  });

  it('KMS.0412: a tag list that is not a list of tags, or names a key twice', async () => {
    for (const tags of ['k=v', { key: 'k', value: 'v' }, ['k'], [null]]) expect(await codeOf(tagsAction({ action: 'create', tags }))).toBe('400 KMS.0412');
    expect(await codeOf(hw.post(`${keyId}/tags`, { tag: ['k', 'v'] }))).toBe('400 KMS.0412');
    expect(await codeOf(tagsAction({ action: 'create', tags: [{ key: 'k', value: '1' }, { key: 'k', value: '2' }] }))).toBe('400 KMS.0412');
    expect(await codeOf(instances({ tags: [{ key: 'k' }, { key: 'k' }] }))).toBe('400 KMS.0412');
    expect(await codeOf(instances({ tags: 'k' }))).toBe('400 KMS.0412');
  });

  it('KMS.0413: more than 10 values in a tag filter', async () => {
    expect(await codeOf(instances({ tags: [{ key: 'k', values: Array.from({ length: 11 }, (_, i) => `v${i}`) }] }))).toBe('400 KMS.0413');
  });

  it('KMS.0415: matches that are not a list of one match', async () => {
    for (const matches of ['resource_name', { key: 'resource_name', value: 'x' }, ['x'], [{ key: 'resource_name', value: 'a' }, { key: 'resource_name', value: 'b' }]]) {
      expect(await codeOf(instances({ matches }))).toBe('400 KMS.0415');
    }
  });

  it('KMS.0417 and KMS.1601: an offset or limit out of range or not a number', async () => {
    for (const offset of ['-1', 'ten', '1.5', 2_147_483_648]) expect(await codeOf(instances({ offset }))).toBe('400 KMS.0417');
    for (const limit of ['0', '1001', 'all', -3]) expect(await codeOf(instances({ limit }))).toBe('400 KMS.1601');
  });

  it('KMS.0201: a tag endpoint with another method', async () => {
    expect(await codeOf(hw.get('resource_instances/action'))).toBe('400 KMS.0201');
    expect(await codeOf(hw.delete(`${keyId}/tags`))).toBe('400 KMS.0201');
    expect(await codeOf(hw.post(`${keyId}/tags/k`, {}))).toBe('400 KMS.0201');
  });
});

describe('policies and the audit trail', () => {
  function policyFile(name: string, statement: unknown[]): string {
    const f = path.join(dir, `${name}.json`);
    fs.writeFileSync(f, JSON.stringify({ version: '2.0', statement }));
    return f;
  }
  const subUser = (name: string, statement: unknown[]) =>
    kms.cli<{ SecretId: string; SecretKey: string; Uin: string }>('user', 'create', '--account', cred.Uin, '--name', name, '--policy', policyFile(name, statement));

  it('KMS.0306: a sub-user gets what its policy allows, on the keys it names', async () => {
    const mine = await createKey(hw, 'policy_mine');
    const theirs = await createKey(hw, 'policy_theirs');
    const res = (keyId: string) => `qcs::kms:ap-guangzhou:${cred.Uin}:key/creatorUin/*/${keyId}`;
    const u = await subUser('tagger', [{ effect: 'allow', action: ['name/kms:*'], resource: [res(mine)] }]);
    const sub = HuaweiClient.of(kms.endpoint, { Uin: cred.Uin, SecretId: u.SecretId, SecretKey: u.SecretKey });
    await sub.post(`${mine}/tags`, { tag: { key: 'by', value: 'sub' } });
    expect((await tagsOf(mine, sub)).tags).toEqual([{ key: 'by', value: 'sub' }]);
    expect(await codeOf(sub.post(`${theirs}/tags`, { tag: { key: 'by', value: 'sub' } }))).toBe('403 KMS.0306');
    expect(await codeOf(sub.get(`${theirs}/tags`))).toBe('403 KMS.0306');
    expect(await codeOf(sub.delete(`${theirs}/tags/by`))).toBe('403 KMS.0306');
    // Project-wide listings need the project-wide resource.
    expect(await codeOf(sub.get('tags'))).toBe('403 KMS.0306');
    expect(await codeOf(sub.post('resource_instances/action', { action: 'count' }))).toBe('403 KMS.0306');

    const reader = await subUser('tag-reader', [
      { effect: 'allow', action: ['name/kms:*'], resource: '*' },
      { effect: 'deny', action: ['name/kms:Create*'], resource: '*' },
    ]);
    const r = HuaweiClient.of(kms.endpoint, { Uin: cred.Uin, SecretId: reader.SecretId, SecretKey: reader.SecretKey });
    expect(await count({}, r)).toBeGreaterThan(0);
    expect((await r.get('tags')).tags).toEqual(expect.arrayContaining([{ key: 'by', values: ['sub'] }]));
    expect(await codeOf(r.post(`${mine}/tags`, { tag: { key: 'x', value: 'y' } }))).toBe('403 KMS.0306');

    // The tag operations are core operations: a policy names them exactly, as any other.
    const lister = await subUser('tag-lister', [{ effect: 'allow', action: ['name/kms:ListKeyTags', 'name/kms:ListTags'], resource: '*' }]);
    const l = HuaweiClient.of(kms.endpoint, { Uin: cred.Uin, SecretId: lister.SecretId, SecretKey: lister.SecretKey });
    expect((await tagsOf(mine, l)).tags).toEqual([{ key: 'by', value: 'sub' }]);
    expect(await codeOf(l.get('tags'))).toBe('OK');
    expect(await codeOf(l.post(`${mine}/tags`, { tag: { key: 'x', value: 'y' } }))).toBe('403 KMS.0306');
    expect(await codeOf(l.post('resource_instances/action', { action: 'count' }))).toBe('403 KMS.0306');
  });

  it('records tag calls with the key they touched, named by the core’s operations', async () => {
    const keyId = await createKey(hw, 'tags_audited');
    await hw.post(`${keyId}/tags/action`, { action: 'create', tags: [{ key: 'a', value: '1' }] });
    await hw.post(`${keyId}/tags`, { tag: { key: 'b', value: '2' } });
    await hw.get(`${keyId}/tags`);
    await hw.delete(`${keyId}/tags/a`);
    const ops = ['BatchKeyTags', 'CreateKeyTag', 'ListKeyTags', 'DeleteKeyTag'];
    const lines = await waitForRecords(kms.env, (l) => ops.every((op) => l.some((x) => x.action === op && x.keys.some((k) => k.keyId === keyId))));
    for (const op of ops) expect(lines.find((x) => x.action === op && x.keys.some((k) => k.keyId === keyId))).toMatchObject({ face: 'huawei', account: cred.Uin, result: 'Success' });
  });
});

// Last: after every other test of the file.
it('answered each endpoint this file is about, as its OpenAPI schema says', () => {
  expect([...answers.answered]).toEqual(expect.arrayContaining(['POST resource_instances/action', 'GET {key_id}/tags', 'GET tags', 'POST {key_id}/tags/action', 'POST {key_id}/tags', 'DELETE {key_id}/tags/{key}']));
});

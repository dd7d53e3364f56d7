import { KmsService } from './support/kms-service';
import { codeOf, kmsClient } from './support/tencent-client';

/**
 * Every list parameter of every action, at its limit and one past it: the limit is served
 * (whatever the answer about the ids themselves), one more is InvalidParameter before any
 * lookup or SQL statement sees the list.
 */

let kms: KmsService;
let c: ReturnType<typeof kmsClient>;
beforeAll(async () => {
  kms = await KmsService.start({ env: { KMS_RATE_LIMITS: 'off' } });
  c = kmsClient(kms.endpoint, await kms.createAccount('lists'));
});
afterAll(() => kms.stop());

const ids = (n: number) => Array.from({ length: n }, (_, i) => `00000000-0000-0000-0000-${String(i).padStart(12, '0')}`);
const tags = (n: number) => Array.from({ length: n }, (_, i) => ({ TagKey: `k${i}`, TagValue: 'v' }));
const filters = (n: number, values: number) => Array.from({ length: n }, (_, i) => ({ TagKey: `k${i}`, TagValue: Array.from({ length: values }, (_, j) => `v${j}`) }));

const cases: Array<[string, number, (n: number) => Promise<unknown>]> = [
  ['CreateKey Tags', 50, (n) => c.CreateKey({ Alias: `tags-${n}`, Tags: tags(n) })],
  ['DescribeKeys KeyIds', 100, (n) => c.DescribeKeys({ KeyIds: ids(n) })],
  ['EnableKeys KeyIds', 100, (n) => c.EnableKeys({ KeyIds: ids(n) })],
  ['DisableKeys KeyIds', 100, (n) => c.DisableKeys({ KeyIds: ids(n) })],
  ['ListKeyDetail TagFilters', 10, (n) => c.ListKeyDetail({ TagFilters: filters(n, 1) })],
  ['ListKeyDetail TagFilters.TagValue', 100, (n) => c.ListKeyDetail({ TagFilters: filters(10, n) })],
];

it.each(cases)('%s takes %i items and refuses one more', async (_name, limit, call) => {
  expect(await codeOf(call(limit))).not.toMatch(/^(InvalidParameter|InternalError)$/);
  expect(await codeOf(call(limit + 1))).toBe('InvalidParameter');
});

it('refuses 5,000 values in one tag filter with InvalidParameter, not InternalError', async () => {
  expect(await codeOf(c.ListKeyDetail({ TagFilters: filters(1, 5000) }))).toBe('InvalidParameter');
});

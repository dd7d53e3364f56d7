import { KeysService } from '../../../keys/keys.service';
import { TencentError } from '../tencent-error';
import { MAX_KEY_IDS, MAX_TAG_FILTERS, MAX_TAG_FILTER_VALUES } from '../list-limits';
import { ActionDef } from './action';
import { keyMetadata } from './key-metadata';
import { checkPendingWindow, checkTencentAlias, originFilterOf, usageFilterOf } from '../key-rules';

const STATE_FILTER: Record<number, string[] | undefined> = {
  0: undefined,
  1: ['Enabled'],
  2: ['Disabled'],
  3: ['PendingDelete'],
  4: ['PendingImport'],
  // Not in the 2019-01-18 document, which predates archiving; offered for completeness.
  5: ['Archived'],
};

const invalid = (msg: string) => new TencentError('InvalidParameter', msg);

/** Actions that change a key's state or attributes, and the detailed listing. */
export function lifecycleActions(keys: KeysService): ActionDef[] {
  return [
    {
      name: 'ArchiveKey',
      params: ['KeyId'],
      async run({ principal, params }) {
        await keys.archive(principal, params.str('KeyId', true));
        return {};
      },
    },
    {
      name: 'CancelKeyArchive',
      params: ['KeyId'],
      async run({ principal, params }) {
        await keys.cancelArchive(principal, params.str('KeyId', true));
        return {};
      },
    },
    {
      name: 'EnableKeys',
      params: ['KeyIds'],
      async run({ principal, params }) {
        await keys.setEnabledMany(principal, params.strArray('KeyIds', MAX_KEY_IDS, true)!, true);
        return {};
      },
    },
    {
      name: 'DisableKeys',
      params: ['KeyIds'],
      async run({ principal, params }) {
        await keys.setEnabledMany(principal, params.strArray('KeyIds', MAX_KEY_IDS, true)!, false);
        return {};
      },
    },
    {
      name: 'ScheduleKeyDeletion',
      params: ['KeyId', 'PendingWindowInDays'],
      async run({ principal, params }) {
        const keyId = params.str('KeyId', true);
        const days = params.requiredUint('PendingWindowInDays');
        checkPendingWindow(days);
        const deletionDate = await keys.scheduleDeletion(principal, keyId, days);
        return { DeletionDate: deletionDate, KeyId: keyId };
      },
    },
    {
      name: 'CancelKeyDeletion',
      params: ['KeyId'],
      async run({ principal, params }) {
        const keyId = params.str('KeyId', true);
        await keys.cancelDeletion(principal, keyId);
        return { KeyId: keyId };
      },
    },
    {
      name: 'UpdateAlias',
      params: ['KeyId', 'Alias'],
      async run({ principal, params }) {
        const keyId = params.str('KeyId', true);
        const alias = params.str('Alias', true);
        checkTencentAlias(alias);
        await keys.updateAlias(principal, keyId, alias);
        return {};
      },
    },
    {
      name: 'UpdateKeyDescription',
      params: ['KeyId', 'Description'],
      async run({ principal, params }) {
        await keys.updateDescription(principal, params.str('KeyId', true), params.str('Description', true));
        return {};
      },
    },
    {
      name: 'BindCloudResource',
      params: ['KeyId', 'ProductId', 'ResourceId'],
      async run({ principal, params }) {
        await keys.bind(principal, params.str('KeyId', true), params.str('ProductId', true), params.str('ResourceId', true));
        return {};
      },
    },
    {
      name: 'UnbindCloudResource',
      params: ['KeyId', 'ProductId', 'ResourceId'],
      async run({ principal, params }) {
        await keys.unbind(principal, params.str('KeyId', true), params.str('ProductId', true), params.str('ResourceId', true));
        return {};
      },
    },
    {
      name: 'ListKeyDetail',
      params: ['Offset', 'Limit', 'Role', 'OrderType', 'KeyState', 'SearchKeyAlias', 'Origin', 'KeyUsage', 'TagFilters'],
      stateless: true,
      async run({ principal, params }) {
        const offset = params.uint('Offset', 0)!;
        const limit = params.uint('Limit', 10)!;
        if (limit < 1 || limit > 200) throw invalid('Limit must be 1..200');
        const role = params.uint('Role', 0)!;
        if (role > 1) throw invalid('Role must be 0 (user) or 1 (cloud products)');
        const order = params.uint('OrderType', 0)!;
        if (order > 1) throw invalid('OrderType must be 0 (newest first) or 1 (oldest first)');
        const state = params.uint('KeyState', 0)!;
        if (!(state in STATE_FILTER)) throw invalid('KeyState must be 0..5');
        const search = params.str('SearchKeyAlias') ?? '';
        if (search.length > 128) throw invalid('SearchKeyAlias is longer than 128 characters');
        const origin = originFilterOf(params.str('Origin') ?? 'ALL');
        const usage = usageFilterOf(params.str('KeyUsage') || 'ENCRYPT_DECRYPT');
        const filters = params.objArray('TagFilters', MAX_TAG_FILTERS) ?? [];
        const tags = filters.map((f) => ({ key: f.str('TagKey', true), values: f.strArray('TagValue', MAX_TAG_FILTER_VALUES) }));
        // No cloud product creates keys here: Role 1 lists nothing.
        if (role === 1) return { TotalCount: 0, KeyMetadatas: [] };
        const page = await keys.listDetail(principal, {
          offset,
          limit,
          newestFirst: order === 0,
          states: STATE_FILTER[state],
          search: search || undefined,
          origin,
          keyUsage: usage,
          tags,
        });
        return { TotalCount: page.total, KeyMetadatas: page.rows.map(keyMetadata) };
      },
    },
  ];
}

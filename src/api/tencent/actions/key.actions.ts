import { KeysService } from '../../../keys/keys.service';
import { TencentError } from '../tencent-error';
import { MAX_CREATE_TAGS, MAX_KEY_IDS } from '../list-limits';
import { ActionDef } from './action';
import { keyMetadata } from './key-metadata';
import { checkTencentAlias, checkTencentTags, originOfType, usageOf } from '../key-rules';

export function keyActions(keys: KeysService): ActionDef[] {
  return [
    {
      name: 'CreateKey',
      params: ['Alias', 'Description', 'KeyUsage', 'Type', 'Tags', 'TCEProjectId'],
      async run({ principal, params }) {
        const tags = params.objArray('Tags', MAX_CREATE_TAGS)?.map((t) => ({ key: t.str('TagKey') ?? '', value: t.str('TagValue') ?? '' }));
        params.str('TCEProjectId');
        const alias = params.str('Alias', true);
        const k = await keys.create(principal, {
          alias,
          faceChecks: () => {
            checkTencentAlias(alias);
            checkTencentTags(tags ?? []);
          },
          description: params.str('Description'),
          keyUsage: usageOf(params.str('KeyUsage')),
          origin: originOfType(params.uint('Type')),
          tags,
        });
        const md = keyMetadata(k);
        return {
          KeyId: md.KeyId,
          Alias: md.Alias,
          CreateTime: md.CreateTime,
          Description: md.Description,
          KeyState: md.KeyState,
          KeyUsage: md.KeyUsage,
          TagCode: 0,
          TagMsg: 'ok',
          ProjectBindingResultCode: 0,
          ProjectBindingMessage: 'ok',
        };
      },
    },
    {
      name: 'DescribeKey',
      params: ['KeyId'],
      stateless: true,
      async run({ principal, params }) {
        const rec = await keys.get(principal, params.str('KeyId', true));
        return { KeyMetadata: keyMetadata(rec.key) };
      },
    },
    {
      name: 'DescribeKeys',
      params: ['KeyIds'],
      stateless: true,
      async run({ principal, params }) {
        const recs = await keys.getMany(principal, params.strArray('KeyIds', MAX_KEY_IDS, true)!);
        return { KeyMetadatas: recs.map((r) => keyMetadata(r.key)) };
      },
    },
    {
      name: 'ListKeys',
      params: ['Offset', 'Limit', 'Role'],
      stateless: true,
      async run({ principal, params }) {
        const offset = params.uint('Offset', 0)!;
        const limit = params.uint('Limit', 10)!;
        const role = params.uint('Role', 0)!;
        if (limit < 1 || limit > 200) throw new TencentError('InvalidParameter', 'Limit must be 1..200');
        if (role > 1) throw new TencentError('InvalidParameter', 'Role must be 0 (user) or 1 (cloud products)');
        // No cloud product creates keys here: Role 1 lists nothing.
        if (role === 1) return { Keys: [], TotalCount: 0 };
        const page = await keys.list(principal, offset, limit);
        return { Keys: page.rows.map((k) => ({ KeyId: k.keyId })), TotalCount: page.total };
      },
    },
    {
      name: 'EnableKey',
      params: ['KeyId'],
      async run({ principal, params }) {
        await keys.setEnabled(principal, params.str('KeyId', true), true);
        return {};
      },
    },
    {
      name: 'DisableKey',
      params: ['KeyId'],
      async run({ principal, params }) {
        await keys.setEnabled(principal, params.str('KeyId', true), false);
        return {};
      },
    },
  ];
}

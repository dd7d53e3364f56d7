import { KeyTagsService } from '../../../keys/key-tags.service';
import { KeysService } from '../../../keys/keys.service';
import { ActionDef } from './action';

/**
 * Extensions of this service (not in the 2019-01-18 document), for the console's key page
 * and any client that needs the same: a key's versions, tags and bound resources. Each is
 * authorized as its own action on the key's resource, as DescribeKey is.
 */
export function keyDetailActions(keys: KeysService, tags: KeyTagsService): ActionDef[] {
  return [
    {
      name: 'ListKeyVersions',
      params: ['KeyId'],
      async run({ principal, params }) {
        const keyId = params.str('KeyId', true);
        const r = await keys.versions(principal, keyId);
        return { KeyId: keyId, CurrentVersion: r.current, Versions: r.versions.map((v) => ({ Version: v.version, CreateTime: v.createdAt })) };
      },
    },
    {
      name: 'ListKeyTags',
      params: ['KeyId'],
      async run({ principal, params }) {
        const keyId = params.str('KeyId', true);
        return { KeyId: keyId, Tags: (await tags.tagsOf(principal, keyId)).map((t) => ({ TagKey: t.key, TagValue: t.value })) };
      },
    },
    {
      name: 'ListKeyBindings',
      params: ['KeyId'],
      async run({ principal, params }) {
        const keyId = params.str('KeyId', true);
        return { KeyId: keyId, Bindings: (await keys.bindings(principal, keyId)).map((b) => ({ ProductId: b.productId, ResourceId: b.resourceId, CreateTime: b.createdAt })) };
      },
    },
  ];
}

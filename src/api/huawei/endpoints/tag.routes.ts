import { KeyTagsService } from '../../../keys/key-tags.service';
import { KEY_INFO, arr, int, obj, str } from '../answers';
import { Field, FieldType, KEY_ID, SEQUENCE, Values } from '../fields';
import { huaweiError } from '../huawei-error';
import { keyInfo } from '../key-rules';
import { RouteDef } from '../route';

/** This API's tag limits: 10 tags per key, keys of 1-36 and values of 0-43 characters, without these characters. */
const MAX_KEY_TAGS = 10;
const MAX_TAG_VALUES = 10;
const MAX_PAGE = 1000;
const TAG_TEXT = /^[^\x00-\x1f*<>\\=]*$/;
const FORBIDDEN = 'ASCII 0-31, *, <, >, \\ or =';

const TAG_KEY = { type: 'string', min: 1, max: 36, lengthCode: 'badTagKeyLength', pattern: TAG_TEXT, code: 'badTagKey', description: `The tag key: 1-36 characters, none of ${FORBIDDEN}.` } as const satisfies Field;
const TAG_VALUE = { type: 'string', max: 43, lengthCode: 'badTagValueLength', pattern: TAG_TEXT, code: 'badTagValue', description: `The tag value: 0-43 characters, none of ${FORBIDDEN}.` } as const satisfies Field;
const TAG: FieldType = { type: 'object', fields: { key: { ...TAG_KEY, required: true }, value: { ...TAG_VALUE, required: true } } };
/** In a batch, a value is needed to create a tag; a deletion may name the key alone. */
const BATCH_TAG: FieldType = { type: 'object', fields: { key: { ...TAG_KEY, required: true }, value: TAG_VALUE } };
const TAG_FILTER: FieldType = {
  type: 'object',
  fields: {
    key: { ...TAG_KEY, required: true },
    values: { type: 'array', items: TAG_VALUE, max: MAX_TAG_VALUES, lengthCode: 'tooManyTagValues', code: 'badTagValue', description: `Any of these values (at most ${MAX_TAG_VALUES}); none: any value.` },
  },
};
const tagList = (items: FieldType, description: string): Field => ({ type: 'array', items, max: MAX_KEY_TAGS, lengthCode: 'badTagListSize', code: 'badTagList', description });

type Tag = { key: string; value: string };

/** The key of a path: as key_id in a body. */
function pathKeyId(params: Readonly<Record<string, string>>): string {
  const keyId = params.key_id;
  if (!(KEY_ID as { pattern: RegExp }).pattern.test(keyId)) throw huaweiError('badKeyId', 'key_id in the path is not a key id');
  return keyId;
}

/** A non-empty list whose keys appear once each. */
function checkTagList(tags: ReadonlyArray<{ key: string }>): void {
  if (!tags.length) throw huaweiError('emptyTagList', 'tags must not be empty');
  if (new Set(tags.map((t) => t.key)).size !== tags.length) throw huaweiError('badTagList', 'tags names a key twice');
}

const ALIAS_MATCH = 'resource_name';
const TAG_OUT = obj({ key: str('The tag key.'), value: str('The tag value.') });

/** The tag query of resource_instances: tags (every one must match; within one, any value) and matches (the alias contains). */
function tagQuery(body: Values) {
  const tags = (body.tags as Array<{ key: string; values?: string[] }> | undefined) ?? [];
  if (new Set(tags.map((t) => t.key)).size !== tags.length) throw huaweiError('badTagList', 'tags names a key twice');
  const matches = (body.matches as Array<{ key: string; value: string }> | undefined) ?? [];
  return { tags: tags.map((t) => ({ key: t.key, values: t.values })), aliasContains: matches[0]?.value };
}

/** Key tags, and keys found by their tags. */
export function tagRoutes(tags: KeyTagsService): RouteDef[] {
  return [
    {
      name: 'resource-instances',
      method: 'POST',
      path: '/v1.0/{project_id}/kms/resource_instances/action',
      operation: 'ListKeysByTags',
      summary: 'Find the keys with these tags (all of them; any of the values given for each) whose alias contains a match; "filter" pages them oldest first, "count" counts them.',
      rateLimit: 50,
      fields: {
        action: { type: 'string', required: true, enum: ['filter', 'count'], code: 'badAction', description: '"filter" (a page of keys and the total) or "count" (the total only).' },
        tags: tagList(TAG_FILTER, `Tag filters, at most ${MAX_KEY_TAGS}, each key once: a key has every one.`),
        matches: {
          type: 'array',
          items: {
            type: 'object',
            fields: {
              key: { type: 'string', required: true, enum: [ALIAS_MATCH], code: 'badMatchKey', description: 'The field matched: resource_name (the alias).' },
              value: { type: 'string', required: true, min: 1, max: 255, code: 'badMatchValue', description: 'A substring of the alias (case-insensitive), 1-255 characters.' },
            },
          },
          max: 1,
          code: 'badMatches',
          description: 'At most one match, on resource_name.',
        },
        limit: { type: 'uint', min: 1, max: MAX_PAGE, code: 'badLimit', description: `Keys per page with "filter", 1 to ${MAX_PAGE} (default 10).` },
        offset: { type: 'uint', min: 0, max: 2_147_483_647, code: 'badOffset', description: 'Keys skipped with "filter" (default 0).' },
        sequence: SEQUENCE,
      },
      answer: obj({
        resources: arr(
          obj({ resource_id: str('The key id.'), resource_detail: KEY_INFO, tags: arr(TAG_OUT, "The key's tags, by key."), resource_name: str('The alias.') }),
          'A page of the keys found, oldest first ([] for "count").',
        ),
        total_count: int('How many keys the query finds.'),
      }),
      async run({ principal, body }) {
        const q = tagQuery(body);
        if (body.action === 'count') return { resources: [], total_count: await tags.count(principal, q) };
        const page = await tags.find(principal, { ...q, offset: (body.offset as number | undefined) ?? 0, limit: (body.limit as number | undefined) ?? 10 });
        return {
          resources: page.rows.map((r) => ({ resource_id: r.key.keyId, resource_detail: keyInfo(r.key), tags: r.tags, resource_name: r.key.alias })),
          total_count: page.total,
        };
      },
    },
    {
      name: 'key-tags',
      method: 'GET',
      path: '/v1.0/{project_id}/kms/{key_id}/tags',
      operation: 'ListKeyTags',
      summary: "A key's tags.",
      rateLimit: 50,
      answer: obj({ tags: arr(TAG_OUT, 'By key.'), existTagsNum: int('How many tags the key has.'), existTagNum: int('The same, by the name of the document\'s table.') }),
      async run({ principal, params }) {
        const list = await tags.tagsOf(principal, pathKeyId(params));
        // The document's table names the count existTagNum and its example existTagsNum: both are given.
        return { tags: list, existTagsNum: list.length, existTagNum: list.length };
      },
    },
    {
      name: 'project-tags',
      method: 'GET',
      path: '/v1.0/{project_id}/kms/tags',
      operation: 'ListTags',
      summary: "Every tag key of the project's keys, with its values.",
      rateLimit: 50,
      answer: obj({ tags: arr(obj({ key: str('The tag key.'), values: arr(str('A value.'), 'Its distinct values, sorted.') }), 'By key.') }),
      async run({ principal }) {
        return { tags: await tags.accountTags(principal) };
      },
    },
    {
      name: 'batch-key-tags',
      method: 'POST',
      path: '/v1.0/{project_id}/kms/{key_id}/tags/action',
      operation: 'BatchKeyTags',
      summary: `Add (or replace) or delete several tags of a key; a key keeps at most ${MAX_KEY_TAGS}.`,
      rateLimit: 50,
      status: 204,
      fields: {
        action: { type: 'string', required: true, enum: ['create', 'delete'], code: 'badAction', description: '"create" (add, or replace the value) or "delete" (a tag with a value is deleted only if it has that value; absent tags are no error).' },
        tags: { ...tagList(BATCH_TAG, `The tags, 1 to ${MAX_KEY_TAGS}, each key once.`), required: true },
        sequence: SEQUENCE,
      },
      async run({ principal, params, body }) {
        const keyId = pathKeyId(params);
        const list = body.tags as Array<{ key: string; value?: string }>;
        checkTagList(list);
        if (body.action === 'delete') return void (await tags.change(principal, keyId, { remove: list, maxTags: MAX_KEY_TAGS }));
        const missing = list.find((t) => t.value === undefined);
        if (missing) throw huaweiError('missing', `tags: the tag ${missing.key} needs a value to be created`);
        await tags.change(principal, keyId, { put: list as Tag[], maxTags: MAX_KEY_TAGS });
      },
    },
    {
      name: 'create-key-tag',
      method: 'POST',
      path: '/v1.0/{project_id}/kms/{key_id}/tags',
      operation: 'CreateKeyTag',
      summary: `Add a tag to a key, or replace its value; a key keeps at most ${MAX_KEY_TAGS}.`,
      rateLimit: 50,
      status: 204,
      fields: { tag: { ...TAG, required: true, code: 'badTagList', description: 'The tag: key and value.' }, sequence: SEQUENCE },
      async run({ principal, params, body }) {
        await tags.change(principal, pathKeyId(params), { put: [body.tag as Tag], maxTags: MAX_KEY_TAGS });
      },
    },
    {
      name: 'delete-key-tag',
      method: 'DELETE',
      path: '/v1.0/{project_id}/kms/{key_id}/tags/{key}',
      operation: 'DeleteKeyTag',
      summary: 'Delete a tag of a key by its key (percent-encoded in the path); an absent tag is no error.',
      rateLimit: 50,
      status: 204,
      fields: { sequence: SEQUENCE },
      async run({ principal, params }) {
        const keyId = pathKeyId(params);
        const key = params.key;
        const n = [...key].length;
        if (n < 1 || n > TAG_KEY.max) throw huaweiError('badTagKeyLength', `the tag key must be 1 to ${TAG_KEY.max} characters`);
        if (!TAG_TEXT.test(key)) throw huaweiError('badTagKey', `the tag key must not contain ${FORBIDDEN}`);
        await tags.change(principal, keyId, { remove: [{ key }] });
      },
    },
  ];
}

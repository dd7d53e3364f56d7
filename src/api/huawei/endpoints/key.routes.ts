import { KeysService } from '../../../keys/keys.service';
import { KEY_ID_OUT, KEY_INFO, KEY_STATE_OUT, arr, int, obj, str } from '../answers';
import { KEY_ID, SEQUENCE } from '../fields';
import { huaweiError } from '../huawei-error';
import { ALIAS, ORIGIN_NAMES, isReservedAlias, keyInfo, originOf, stateNumber, statesOfNumber } from '../key-rules';
import { RouteDef } from '../route';

const ENTERPRISE_PROJECT = { type: 'string', pattern: /^(all|0|[0-9a-z]{8}-[0-9a-z]{4}-[0-9a-z]{4}-[0-9a-z]{4}-[0-9a-z]{12})$/, description: 'Enterprise project id: "0" (the only one here), "all" or an id.' } as const;
const KEY_ALIAS = { type: 'string', required: true, pattern: ALIAS, code: 'badAlias', description: 'The alias: 1-255 of letters, digits, ":", "/" and "_", not ending in "/default" (at most 60 are stored).' } as const;
const MAX_PAGE = 1000;

function checkAlias(alias: string): void {
  if (isReservedAlias(alias)) throw huaweiError('badAlias', 'aliases ending in /default are reserved for the default keys');
}

/** The key lifecycle and listing endpoints. */
export function keyRoutes(keys: KeysService): RouteDef[] {
  return [
    {
      method: 'POST',
      name: 'create-key',
      path: '/v1.0/{project_id}/kms/create-key',
      operation: 'CreateKey',
      summary: 'Create a CMK (AES-256; origin kms or external).',
      answer: obj({ key_info: obj({ key_id: KEY_ID_OUT, domain_id: str('The account.') }) }),
      rateLimit: 100,
      fields: {
        key_alias: KEY_ALIAS,
        key_description: { type: 'string', max: 255, code: 'badDescription', description: 'Description, 0-255 characters.' },
        origin: { type: 'string', enum: ORIGIN_NAMES, description: 'Where the material comes from: kms (default) or external (imported).' },
        enterprise_project_id: ENTERPRISE_PROJECT,
        sequence: SEQUENCE,
      },
      async run({ principal, body }) {
        const alias = body.key_alias as string;
        const k = await keys.create(principal, {
          alias,
          faceChecks: () => checkAlias(alias),
          description: body.key_description as string | undefined,
          origin: originOf(body.origin as string | undefined),
        });
        return { key_info: { key_id: k.keyId, domain_id: k.uin } };
      },
    },
    {
      method: 'POST',
      name: 'describe-key',
      path: '/v1.0/{project_id}/kms/describe-key',
      operation: 'DescribeKey',
      summary: 'Describe a CMK.',
      answer: obj({ key_info: KEY_INFO }),
      rateLimit: 100,
      fields: { key_id: KEY_ID, sequence: SEQUENCE },
      async run({ principal, body }) {
        const rec = await keys.get(principal, body.key_id as string);
        return { key_info: keyInfo(rec.key) };
      },
    },
    {
      method: 'POST',
      name: 'enable-key',
      path: '/v1.0/{project_id}/kms/enable-key',
      operation: 'EnableKey',
      summary: 'Enable a disabled CMK.',
      answer: obj({ key_info: obj({ key_id: KEY_ID_OUT, key_state: KEY_STATE_OUT }) }),
      rateLimit: 100,
      fields: { key_id: KEY_ID, sequence: SEQUENCE },
      async run({ principal, body }) {
        const keyId = body.key_id as string;
        // Only a disabled key may be enabled here (strict), where the core lets an enabled one be enabled again.
        await keys.setEnabled(principal, keyId, true, true);
        return { key_info: { key_id: keyId, key_state: stateNumber('Enabled') } };
      },
    },
    {
      method: 'POST',
      name: 'disable-key',
      path: '/v1.0/{project_id}/kms/disable-key',
      operation: 'DisableKey',
      summary: 'Disable an enabled CMK.',
      answer: obj({ key_info: obj({ key_id: KEY_ID_OUT, key_state: KEY_STATE_OUT }) }),
      rateLimit: 100,
      fields: { key_id: KEY_ID, sequence: SEQUENCE },
      async run({ principal, body }) {
        const keyId = body.key_id as string;
        await keys.setEnabled(principal, keyId, false, true);
        return { key_info: { key_id: keyId, key_state: stateNumber('Disabled') } };
      },
    },
    {
      method: 'POST',
      name: 'schedule-key-deletion',
      path: '/v1.0/{project_id}/kms/schedule-key-deletion',
      operation: 'ScheduleKeyDeletion',
      summary: 'Schedule the deletion of a disabled CMK in 7 to 1096 days.',
      answer: obj({ key_id: KEY_ID_OUT, key_state: KEY_STATE_OUT }),
      rateLimit: 20,
      fields: {
        key_id: KEY_ID,
        pending_days: { type: 'uint', required: true, min: 7, max: 1096, code: 'badPendingDays', description: 'Days until the deletion, 7 to 1096.' },
        sequence: SEQUENCE,
      },
      async run({ principal, body }) {
        const keyId = body.key_id as string;
        await keys.scheduleDeletion(principal, keyId, body.pending_days as number);
        return { key_id: keyId, key_state: stateNumber('PendingDelete') };
      },
    },
    {
      method: 'POST',
      name: 'cancel-key-deletion',
      path: '/v1.0/{project_id}/kms/cancel-key-deletion',
      operation: 'CancelKeyDeletion',
      summary: 'Cancel a scheduled deletion; the key becomes disabled (or pending import).',
      answer: obj({ key_id: KEY_ID_OUT, key_state: KEY_STATE_OUT }),
      rateLimit: 20,
      fields: { key_id: KEY_ID, sequence: SEQUENCE },
      async run({ principal, body }) {
        const keyId = body.key_id as string;
        await keys.cancelDeletion(principal, keyId);
        const { key } = await keys.getUncached(principal, keyId);
        return { key_id: keyId, key_state: stateNumber(key.keyState) };
      },
    },
    {
      method: 'POST',
      name: 'list-keys',
      path: '/v1.0/{project_id}/kms/list-keys',
      // Not ListKeys (ids only): the page carries every key's details, as ListKeyDetail's does.
      operation: 'ListKeyDetail',
      summary: 'List the CMKs of the project, oldest first, in pages (limit, marker).',
      answer: obj({ keys: arr(KEY_ID_OUT), key_details: arr(KEY_INFO), next_marker: str('The marker of the next page; "" on the last.'), truncated: str('"true" when more pages follow, else "false".'), total: int('Keys matching, over all pages.') }),
      rateLimit: 50,
      fields: {
        limit: { type: 'uint', min: 1, max: MAX_PAGE, code: 'badLimit', description: `Keys per page, 1 to ${MAX_PAGE} (default ${MAX_PAGE}).` },
        marker: { type: 'uint', min: 0, max: 2_147_483_647, code: 'badMarker', description: 'Where the page starts: next_marker of the previous page (default 0).' },
        key_state: { type: 'string', pattern: /^[1-5]$/, description: 'Only keys in this state: "1" pending activation, "2" enabled, "3" disabled, "4" pending deletion, "5" pending import.' },
        enterprise_project_id: ENTERPRISE_PROJECT,
        sequence: SEQUENCE,
      },
      async run({ principal, body }) {
        const offset = (body.marker as number | undefined) ?? 0;
        const limit = (body.limit as number | undefined) ?? MAX_PAGE;
        const states = body.key_state === undefined ? undefined : statesOfNumber(body.key_state as string);
        const page = states?.length === 0 ? { rows: [], total: 0 } : await keys.listDetail(principal, { offset, limit, newestFirst: false, states, tags: [] });
        const truncated = offset + page.rows.length < page.total;
        return {
          keys: page.rows.map((k) => k.keyId),
          key_details: page.rows.map(keyInfo),
          next_marker: truncated ? String(offset + page.rows.length) : '',
          truncated: String(truncated),
          total: page.total,
        };
      },
    },
    {
      method: 'POST',
      name: 'update-key-alias',
      path: '/v1.0/{project_id}/kms/update-key-alias',
      operation: 'UpdateAlias',
      summary: 'Change the alias of a CMK.',
      answer: obj({ key_info: obj({ key_id: KEY_ID_OUT, key_alias: str('The new alias.') }) }),
      rateLimit: 100,
      fields: { key_id: KEY_ID, key_alias: KEY_ALIAS, sequence: SEQUENCE },
      async run({ principal, body }) {
        const keyId = body.key_id as string;
        const alias = body.key_alias as string;
        checkAlias(alias);
        await keys.updateAlias(principal, keyId, alias);
        return { key_info: { key_id: keyId, key_alias: alias } };
      },
    },
    {
      method: 'POST',
      name: 'update-key-description',
      path: '/v1.0/{project_id}/kms/update-key-description',
      operation: 'UpdateKeyDescription',
      summary: 'Change the description of a CMK.',
      answer: obj({ key_info: obj({ key_id: KEY_ID_OUT, key_description: str('The new description.') }) }),
      rateLimit: 100,
      fields: {
        key_id: KEY_ID,
        key_description: { type: 'string', required: true, max: 255, code: 'badDescription', description: 'Description, 0-255 characters.' },
        sequence: SEQUENCE,
      },
      async run({ principal, body }) {
        const keyId = body.key_id as string;
        const description = body.key_description as string;
        await keys.updateDescription(principal, keyId, description);
        return { key_info: { key_id: keyId, key_description: description } };
      },
    },
  ];
}

import { MAX_BATCH_KEYS, MAX_TAGS } from '../../keys/key-params';

/**
 * The longest list each list parameter of the API takes; a longer one is InvalidParameter
 * before anything else reads it. KeyIds and Tags follow the core's limits (the document's
 * 100 KeyIds); TagFilters' 10 and TagValue's 100 are this service's own, in docs/errors.md.
 */
export const MAX_KEY_IDS = MAX_BATCH_KEYS;
export const MAX_CREATE_TAGS = MAX_TAGS;
export const MAX_TAG_FILTERS = 10;
export const MAX_TAG_FILTER_VALUES = 100;

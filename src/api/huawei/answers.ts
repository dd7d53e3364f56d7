/**
 * JSON Schemas of the answers, for the OpenAPI document: small builders, so that each route
 * states its answer next to its handler.
 */
export type Schema = Record<string, unknown>;

export const str = (description: string): Schema => ({ type: 'string', description });
export const int = (description: string): Schema => ({ type: 'integer', description });
export const arr = (items: Schema, description?: string): Schema => ({ type: 'array', items, ...(description && { description }) });
export const obj = (properties: Record<string, Schema>, description?: string): Schema => ({ type: 'object', properties, required: Object.keys(properties), ...(description && { description }) });

export const KEY_ID_OUT = str('The key id.');
export const KEY_STATE_OUT = str('"1" pending activation, "2" enabled, "3" disabled, "4" pending deletion, "5" pending import.');

/** key_info of describe-key and list-keys. */
export const KEY_INFO = obj({
  key_id: KEY_ID_OUT,
  domain_id: str('The account.'),
  key_alias: str('The alias.'),
  realm: str('The region.'),
  key_description: str('The description.'),
  creation_date: str('Milliseconds since the epoch.'),
  scheduled_deletion_date: str('Milliseconds since the epoch; "" when no deletion is scheduled.'),
  key_state: KEY_STATE_OUT,
  default_key_flag: str('"1" for a default key (alias ending in /default), else "0".'),
  key_type: str('"1": AES-256.'),
  expiration_time: str('When imported material expires, milliseconds since the epoch; "" for none.'),
  origin: str('kms or external.'),
  sys_enterprise_project_id: str('"0".'),
});

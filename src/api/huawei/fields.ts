import { CodeName, huaweiError } from './huawei-error';

/**
 * The request fields of a route: names, types, ranges and the code a wrong value gets. The
 * same table validates requests and describes them in the OpenAPI document.
 */
export type FieldType =
  /** `lengthCode`: the code of a length outside min..max, when it is not the field's. */
  | { type: 'string'; min?: number; max?: number; lengthCode?: CodeName; pattern?: RegExp; enum?: readonly string[] }
  /** A whole number, sent as a JSON string of digits (as the document writes them) or a JSON number. */
  | { type: 'uint'; min: number; max: number; multipleOf?: number }
  /** A flat object of string values (encryption_context). */
  | { type: 'map' }
  | { type: 'object'; fields: Fields }
  | { type: 'array'; items: FieldType; min?: number; max?: number; lengthCode?: CodeName };

export type Field = FieldType & {
  required?: boolean;
  /** The code of a wrong value (KMS.0308 when absent); a missing required field is always KMS.0204. */
  code?: CodeName;
  description: string;
};

export type Fields = Readonly<Record<string, Field>>;

/** A validated request body: strings, numbers (uint), string maps, nested bodies and arrays. */
export type Values = Readonly<Record<string, unknown>>;

/** The `sequence` every request may carry: a client's request id, 36 bytes. */
export const SEQUENCE: Field = { type: 'string', min: 36, max: 36, code: 'badSequence', description: 'The request sequence number, 36 bytes (e.g. a UUID).' };

/** `key_id` as the document gives it. */
export const KEY_ID: Field = { type: 'string', required: true, pattern: /^[0-9a-z]{8}-[0-9a-z]{4}-[0-9a-z]{4}-[0-9a-z]{4}-[0-9a-z]{12}$/, code: 'badKeyId', description: 'The key id, 36 bytes.' };

export const ENCRYPTION_CONTEXT: Field = { type: 'map', code: 'badContext', description: 'Key/value pairs (strings) bound to the ciphertext; the same pairs are needed to decrypt.' };

/** Checks `body` against `fields`; `at` is the path of a nested body, for messages. */
export function validate(fields: Fields, body: unknown, at = ''): Values {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) throw huaweiError('badJson', `${at || 'the request body'} must be a JSON object`);
  const given = body as Record<string, unknown>;
  for (const name of Object.keys(given)) if (!Object.hasOwn(fields, name)) throw huaweiError('invalid', `${at}${name} is not a field of this request`);
  const out: Record<string, unknown> = {};
  for (const [name, f] of Object.entries(fields)) {
    const v = given[name];
    if (v === undefined || v === null) {
      if (f.required) throw huaweiError('missing', `${at}${name} is required`);
      continue;
    }
    out[name] = value(f, v, `${at}${name}`, f.code ?? 'invalid');
  }
  return out;
}

function value(t: FieldType, v: unknown, name: string, code: CodeName): unknown {
  const bad = (why: string) => huaweiError(code, `${name} ${why}`);
  switch (t.type) {
    case 'string': {
      if (typeof v !== 'string') throw bad('must be a string');
      const n = [...v].length;
      const badLength = (why: string) => huaweiError(t.lengthCode ?? code, `${name} ${why}`);
      if (t.min !== undefined && n < t.min) throw badLength(`must be at least ${t.min} characters`);
      if (t.max !== undefined && n > t.max) throw badLength(`must be at most ${t.max} characters`);
      if (t.pattern && !t.pattern.test(v)) throw bad(`must match ${t.pattern.source}`);
      if (t.enum && !t.enum.includes(v)) throw bad(`must be one of ${t.enum.join(', ')}`);
      return v;
    }
    case 'uint': {
      const text = typeof v === 'number' ? String(v) : v;
      if (typeof text !== 'string' || !/^\d{1,10}$/.test(text)) throw bad('must be a whole number (a string of digits)');
      const n = Number(text);
      if (n < t.min || n > t.max || (t.multipleOf && n % t.multipleOf !== 0)) throw bad(`must be ${t.min} to ${t.max}${t.multipleOf ? `, a multiple of ${t.multipleOf}` : ''}`);
      return n;
    }
    case 'map': {
      if (v === null || typeof v !== 'object' || Array.isArray(v)) throw bad('must be an object of key/value pairs');
      for (const [k, x] of Object.entries(v as object)) if (typeof x !== 'string') throw bad(`must have string values; ${k} is not one`);
      return v;
    }
    case 'object':
      if (v === null || typeof v !== 'object' || Array.isArray(v)) throw bad('must be an object');
      return validate(t.fields, v, `${name}.`);
    case 'array': {
      if (!Array.isArray(v)) throw bad('must be an array');
      const badLength = (why: string) => huaweiError(t.lengthCode ?? code, `${name} ${why}`);
      if (t.min !== undefined && v.length < t.min) throw badLength(`must have at least ${t.min} items`);
      if (t.max !== undefined && v.length > t.max) throw badLength(`must have at most ${t.max} items`);
      return v.map((x, i) => value(t.items, x, `${name}[${i}]`, code));
    }
  }
}

/** The JSON Schema (OpenAPI 3.0 dialect) of a field type. */
export function schemaOf(t: FieldType & { description?: string }): Record<string, unknown> {
  const d = t.description ? { description: t.description } : {};
  switch (t.type) {
    case 'string':
      return { type: 'string', ...d, ...(t.min !== undefined && { minLength: t.min }), ...(t.max !== undefined && { maxLength: t.max }), ...(t.pattern && { pattern: t.pattern.source }), ...(t.enum && { enum: t.enum }) };
    case 'uint':
      return { type: 'string', pattern: '^[0-9]+$', ...d, 'x-range': { minimum: t.min, maximum: t.max, ...(t.multipleOf && { multipleOf: t.multipleOf }) } };
    case 'map':
      return { type: 'object', additionalProperties: { type: 'string' }, ...d };
    case 'object':
      return objectSchema(t.fields, t.description);
    case 'array':
      return { type: 'array', items: schemaOf(t.items), ...d, ...(t.min !== undefined && { minItems: t.min }), ...(t.max !== undefined && { maxItems: t.max }) };
  }
}

export function objectSchema(fields: Fields, description?: string): Record<string, unknown> {
  const required = Object.entries(fields).filter(([, f]) => f.required).map(([n]) => n);
  return {
    type: 'object',
    ...(description && { description }),
    additionalProperties: false,
    properties: Object.fromEntries(Object.entries(fields).map(([n, f]) => [n, schemaOf(f)])),
    ...(required.length && { required }),
  };
}

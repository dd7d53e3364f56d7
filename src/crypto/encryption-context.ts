import { InvalidParameterError } from '../common/domain-errors';

export const MAX_CONTEXT_CHARS = 1024;

function canonical(v: unknown): string {
  if (Array.isArray(v)) return '[' + v.map(canonical).join(',') + ']';
  if (v !== null && typeof v === 'object') {
    const keys = Object.keys(v as object).sort();
    return '{' + keys.map((k) => JSON.stringify(k) + ':' + canonical((v as Record<string, unknown>)[k])).join(',') + '}';
  }
  return JSON.stringify(v);
}

/**
 * The EncryptionContext parameter (a JSON object as a string, at most 1024 characters) in
 * canonical form: keys sorted at every level, no whitespace. Key order and spacing do not
 * matter; an absent, empty or `{}` context are the same. Returned as the AAD suffix.
 */
export function contextAad(raw: string | undefined, field = 'EncryptionContext'): Buffer {
  if (raw === undefined || raw === '') return Buffer.alloc(0);
  if (raw.length > MAX_CONTEXT_CHARS) throw new InvalidParameterError(field, `${field} is longer than ${MAX_CONTEXT_CHARS} characters`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw new InvalidParameterError(field, `${field} is not valid JSON`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new InvalidParameterError(field, `${field} must be a JSON object of key/value pairs`);
  if (Object.keys(parsed).length === 0) return Buffer.alloc(0);
  return Buffer.from(canonical(parsed), 'utf8');
}

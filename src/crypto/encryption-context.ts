import { InvalidParameterError } from '../common/domain-errors';

/** The longest context any face allows; each face checks its own, possibly shorter, bound first. */
export const MAX_CONTEXT_CHARS = 8192;

const WS = new Set([' ', '\t', '\n', '\r']);

/**
 * The members of a flat JSON object, each value as its canonical text: a string re-encoded
 * as JSON.stringify writes it, any other scalar (number, true, false, null) exactly as sent.
 * The input is already known to be valid JSON and an object; what is refused here is valid
 * JSON that would make two different contexts share one AAD: a key given twice (JSON.parse
 * keeps the last) and nested objects or arrays. Numbers keep their text because JavaScript
 * would round them (9007199254740993 reads as 9007199254740992).
 */
function members(raw: string, field: string): Map<string, string> {
  const out = new Map<string, string>();
  let i = 0;
  const skip = () => {
    while (WS.has(raw[i])) i++;
  };
  /** The string token at i, decoded; i moves past it. */
  const string = (): string => {
    const start = i++;
    while (raw[i] !== '"') i += raw[i] === '\\' ? 2 : 1;
    i++;
    return JSON.parse(raw.slice(start, i)) as string;
  };
  skip();
  i++; // {
  skip();
  if (raw[i] === '}') return out;
  for (;;) {
    skip();
    const key = string();
    skip();
    i++; // :
    skip();
    let value: string;
    if (raw[i] === '"') value = JSON.stringify(string());
    else if (raw[i] === '{' || raw[i] === '[') throw new InvalidParameterError(field, (n) => `${n(field)} must be a flat JSON object: the value of ${JSON.stringify(key)} is an ${raw[i] === '{' ? 'object' : 'array'}`, 'value');
    else {
      const start = i;
      while (i < raw.length && raw[i] !== ',' && raw[i] !== '}' && !WS.has(raw[i])) i++;
      value = raw.slice(start, i);
    }
    if (out.has(key)) throw new InvalidParameterError(field, (n) => `${n(field)} gives the key ${JSON.stringify(key)} more than once`, 'value');
    out.set(key, value);
    skip();
    if (raw[i++] === '}') return out;
  }
}

/**
 * The EncryptionContext parameter (a flat JSON object as a string, at most MAX_CONTEXT_CHARS)
 * in canonical form: keys sorted (UTF-16 order), no whitespace, strings as JSON.stringify
 * writes them, other values as sent. Key order and spacing do not matter; an absent, empty
 * or `{}` context are the same. Returned as the AAD suffix. For string values this is
 * byte for byte what earlier versions made, so their ciphertexts still open.
 */
export function contextAad(raw: string | undefined, field = 'encryptionContext'): Buffer {
  if (raw === undefined || raw === '') return Buffer.alloc(0);
  if (raw.length > MAX_CONTEXT_CHARS) throw new InvalidParameterError(field, (n) => `${n(field)} is longer than ${MAX_CONTEXT_CHARS} characters`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw new InvalidParameterError(field, (n) => `${n(field)} is not valid JSON`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new InvalidParameterError(field, (n) => `${n(field)} must be a JSON object of key/value pairs`);
  const pairs = members(raw, field);
  if (pairs.size === 0) return Buffer.alloc(0);
  const keys = [...pairs.keys()].sort();
  return Buffer.from('{' + keys.map((k) => JSON.stringify(k) + ':' + pairs.get(k)).join(',') + '}', 'utf8');
}

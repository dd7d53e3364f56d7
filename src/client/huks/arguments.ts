import { invalidArgument } from './business-error';
import { HuksTagType } from './enums';
import { HuksOptions, HuksParam } from './types';

/**
 * The 401 checks: what the call itself gets wrong is refused here, synchronously and before any
 * request, as HUKS throws its parameter errors (seed 000's examples catch them around the call).
 */

const TYPE_MASK = 0xf0000000;
const MAX_ALIAS_CHARS = 128;
const MAX_BYTES = 1024 * 1024;
const UINT32_MAX = 0xffffffff;

export function checkAlias(keyAlias: unknown): string {
  if (typeof keyAlias !== 'string' || keyAlias.length === 0) throw invalidArgument('keyAlias must be a non-empty string.');
  if (keyAlias.length > MAX_ALIAS_CHARS) throw invalidArgument(`keyAlias is longer than ${MAX_ALIAS_CHARS} characters.`);
  return keyAlias;
}

export function checkHandle(handle: unknown): number {
  if (typeof handle !== 'number' || !Number.isSafeInteger(handle) || handle < 0) throw invalidArgument('handle must be a non-negative integer from initSession.');
  return handle;
}

export function checkToken(token: unknown): Uint8Array | undefined {
  if (token === undefined) return undefined;
  if (!(token instanceof Uint8Array)) throw invalidArgument('token must be a Uint8Array.');
  return token;
}

export function checkCallback(callback: unknown): void {
  if (typeof callback !== 'function') throw invalidArgument('callback must be a function.');
}

function checkBytes(v: unknown, what: string): Uint8Array {
  if (!(v instanceof Uint8Array)) throw invalidArgument(`${what} must be a Uint8Array.`);
  if (v.byteLength > MAX_BYTES) throw invalidArgument(`${what} is larger than ${MAX_BYTES} bytes; split it into updateSession segments.`);
  return v;
}

/** A param's value must have the JS type its tag's type bits name (HuksTagType). */
function checkParam(p: unknown, i: number): HuksParam {
  if (typeof p !== 'object' || p === null) throw invalidArgument(`properties[${i}] must be an object {tag, value}.`);
  const { tag, value } = p as { tag: unknown; value: unknown };
  if (typeof tag !== 'number' || !Number.isInteger(tag) || tag < 0 || tag > UINT32_MAX) throw invalidArgument(`properties[${i}].tag must be a HuksTag.`);
  const bad = (want: string) => invalidArgument(`properties[${i}].value must be ${want} for tag ${tag}.`);
  switch ((tag & TYPE_MASK) >>> 0) {
    case HuksTagType.HUKS_TAG_TYPE_INT:
      if (typeof value !== 'number' || !Number.isInteger(value) || value < -0x80000000 || value > 0x7fffffff) throw bad('an int32 number');
      break;
    case HuksTagType.HUKS_TAG_TYPE_UINT:
      if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > UINT32_MAX) throw bad('a uint32 number');
      break;
    case HuksTagType.HUKS_TAG_TYPE_ULONG:
      if (typeof value !== 'bigint' || value < 0n || value > 0xffffffffffffffffn) throw bad('a uint64 bigint');
      break;
    case HuksTagType.HUKS_TAG_TYPE_BOOL:
      if (typeof value !== 'boolean') throw bad('a boolean');
      break;
    case HuksTagType.HUKS_TAG_TYPE_BYTES:
      if (!(value instanceof Uint8Array)) throw bad('a Uint8Array');
      checkBytes(value, `properties[${i}].value`);
      break;
    default:
      throw invalidArgument(`properties[${i}].tag ${tag} has no valid HuksTagType.`);
  }
  return { tag, value: value as HuksParam['value'] };
}

export function checkOptions(options: unknown): HuksOptions {
  if (typeof options !== 'object' || options === null || Array.isArray(options)) throw invalidArgument('options must be a HuksOptions object.');
  const { properties, inData } = options as { properties?: unknown; inData?: unknown };
  const out: HuksOptions = {};
  if (properties !== undefined) {
    if (!Array.isArray(properties)) throw invalidArgument('options.properties must be an array of HuksParam.');
    out.properties = properties.map(checkParam);
  }
  if (inData !== undefined) out.inData = checkBytes(inData, 'options.inData');
  return out;
}

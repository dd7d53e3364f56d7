import { BusinessError } from './business-error';
import { HuksExceptionErrCode } from './enums';
import { HuksOptions, HuksParam } from './types';

/** HuksOptions to and from the JSON forms of docs/huks-protocol.md (bytes as base64, bigints as decimal strings). */

const b64 = (u: Uint8Array): string => Buffer.from(u.buffer, u.byteOffset, u.byteLength).toString('base64');

function paramToJson(p: HuksParam): { tag: number; value: unknown } {
  const { tag, value } = p;
  if (value instanceof Uint8Array) return { tag, value: b64(value) };
  if (typeof value === 'bigint') return { tag, value: value.toString(10) };
  return { tag, value };
}

export function optionsToJson(o: HuksOptions): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (o.properties !== undefined) out.properties = o.properties.map(paramToJson);
  if (o.inData !== undefined) out.inData = b64(o.inData);
  return out;
}

const badAnswer = (what: string): BusinessError => new BusinessError(HuksExceptionErrCode.HUKS_ERR_CODE_CALL_SERVICE_FAILED, `The service answered a malformed ${what}.`);

/** Standard base64 from the service. Node's decoder skips what is not base64 and reads the URL-safe alphabet, so the exact length and no `-`/`_` make the check (a regular expression over a segment costs more than the call). */
export function bytesFromJson(v: unknown, what: string): Uint8Array {
  if (typeof v !== 'string' || v.length % 4 !== 0) throw badAnswer(what);
  const bytes = Buffer.from(v, 'base64');
  const expected = (v.length / 4) * 3 - (v.endsWith('==') ? 2 : v.endsWith('=') ? 1 : 0);
  if (bytes.length !== expected || v.includes('-') || v.includes('_')) throw badAnswer(what);
  return new Uint8Array(bytes);
}

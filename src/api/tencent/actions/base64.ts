import { TencentError } from '../tencent-error';
import { decodeStrictBase64 } from '../../../common/base64';

/** Strict base64: Node's decoder silently skips invalid characters. */
export function strictBase64(value: string, code: string, name: string): Buffer {
  const bytes = decodeStrictBase64(value);
  if (!bytes) throw new TencentError(code, `${name} is not valid base64`);
  return bytes;
}

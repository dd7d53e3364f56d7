import { TencentError } from '../tencent-error';
import { STRICT_BASE64 } from '../../../common/base64';

/** Strict base64: Node's decoder silently skips invalid characters. */
export function strictBase64(value: string, code: string, name: string): Buffer {
  if (!STRICT_BASE64.test(value)) throw new TencentError(code, `${name} is not valid base64`);
  return Buffer.from(value, 'base64');
}

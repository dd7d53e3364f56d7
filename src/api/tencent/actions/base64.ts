import { TencentError } from '../tencent-error';

const B64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Strict base64: Node's decoder silently skips invalid characters. */
export function strictBase64(value: string, code: string, name: string): Buffer {
  if (!B64.test(value)) throw new TencentError(code, `${name} is not valid base64`);
  return Buffer.from(value, 'base64');
}

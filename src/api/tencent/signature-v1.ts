import * as crypto from 'node:crypto';

/** Signature v1 (HmacSHA1 / HmacSHA256 over the sorted, unencoded parameters). */

export function v1StringToSign(method: string, host: string, path: string, params: Map<string, string>): string {
  const keys = [...params.keys()].filter((k) => k !== 'Signature').sort();
  return `${method}${host}${path}?${keys.map((k) => `${k}=${params.get(k)}`).join('&')}`;
}

export function v1Signature(secretKey: string, method: 'HmacSHA1' | 'HmacSHA256', stringToSign: string): Buffer {
  return crypto.createHmac(method === 'HmacSHA256' ? 'sha256' : 'sha1', secretKey).update(stringToSign, 'utf8').digest();
}

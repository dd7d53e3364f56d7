import * as crypto from 'node:crypto';

/** How long an access token works after it is issued. */
export const ACCESS_TOKEN_LIFETIME_SECONDS = 24 * 3600;

/** A token is `<id>.<secret>`: the id names its credential row (and shows in `credential list`), the secret proves it. */
const TOKEN_RE = /^(KMST[A-Za-z0-9]{28})\.([A-Za-z0-9]{43})$/;
export const ACCESS_TOKEN_ID_PREFIX = 'KMST';

export function formatAccessToken(id: string, secret: string): string {
  return `${id}.${secret}`;
}

/** The id and secret of a well-formed token, or null. */
export function parseAccessToken(token: string): { id: string; secret: string } | null {
  const m = TOKEN_RE.exec(token);
  return m ? { id: m[1], secret: m[2] } : null;
}

const DIGEST_PREFIX = 'sha256:';

/**
 * What the database keeps of a token's secret. The secret is 43 random characters (about 256
 * bits), so a plain digest cannot be searched backwards; no salt or slow hash is needed.
 */
export function accessTokenDigest(secret: string): string {
  return DIGEST_PREFIX + crypto.createHash('sha256').update(secret, 'utf8').digest('base64');
}

/** Whether `secret` matches the stored digest, compared in constant time. */
export function accessTokenMatches(secret: string, stored: Buffer): boolean {
  const given = crypto.createHash('sha256').update(secret, 'utf8').digest();
  return stored.length === given.length && crypto.timingSafeEqual(stored, given);
}

/** The digest bytes of a stored value (empty if it is not a digest, which then matches nothing). */
export function storedDigest(stored: string): Buffer {
  return stored.startsWith(DIGEST_PREFIX) ? Buffer.from(stored.slice(DIGEST_PREFIX.length), 'base64') : Buffer.alloc(0);
}

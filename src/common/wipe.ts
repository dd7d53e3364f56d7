/**
 * Overwrites secret bytes (plaintexts, data keys, PINs) once they are no longer needed. Only
 * Buffers can be wiped: JavaScript strings made from them (a base64 answer, a request body's
 * text) stay in the heap until the garbage collector reuses their memory.
 */
export function wipe(...secrets: (Buffer | undefined)[]): void {
  for (const b of secrets) b?.fill(0);
}

/** The base64 text of a secret, the secret's bytes wiped. */
export function base64AndWipe(secret: Buffer): string {
  try {
    return secret.toString('base64');
  } finally {
    secret.fill(0);
  }
}

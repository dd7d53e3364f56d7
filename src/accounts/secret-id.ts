/** The SecretIds `kms credential create` issues: the prefix and this many letters or digits. */
export const SECRET_ID_PREFIX = 'AKID';
export const SECRET_ID_RANDOM_CHARS = 32;
const ISSUED = new RegExp(`^${SECRET_ID_PREFIX}[A-Za-z0-9]{${SECRET_ID_RANDOM_CHARS}}$`);

/** Whether `s` has the form of an issued SecretId: any other is no credential, without a look-up. */
export function isIssuedSecretId(s: string): boolean {
  return ISSUED.test(s);
}

import * as pkcs11 from 'pkcs11js';
import { Token } from './token';

/** The token mechanisms each CMK algorithm needs: generation inside the token, then the cipher of the ciphertext blob. */
const NEEDS = {
  'aes-256': [pkcs11.CKM_AES_KEY_GEN, pkcs11.CKM_AES_GCM],
} as const;
export type CmkAlgorithm = keyof typeof NEEDS;

/** The CMK algorithms this token can generate and use, from the mechanism list it reported at login. */
export function cmkAlgorithms(token: Token): CmkAlgorithm[] {
  return (Object.keys(NEEDS) as CmkAlgorithm[]).filter((a) => NEEDS[a].every((m) => token.supports(m)));
}

import { base64AndWipe, wipe } from '../../../common/wipe';
import { Sm2Service } from '../../../crypto/sm2.service';
import { ActionDef } from './action';
import { strictBase64 } from './base64';

/** An SM2 signature's format, as SignByAsymmetricKey's and VerifyByAsymmetricKey's Algorithm names it. */
export interface Sm2Signing {
  sm2: 'der' | 'raw';
}
/** SM2DSA is documented as ASN.1, like SM2DSA_ASN1. */
export const SM2_SIGNING: Readonly<Record<string, Sm2Signing>> = { SM2DSA: { sm2: 'der' }, SM2DSA_ASN1: { sm2: 'der' }, SM2DSA_RAW: { sm2: 'raw' } };

/** AsymmetricSm2Decrypt and AsymmetricSm2Encrypt; SM2 signing is served by SignByAsymmetricKey. */
export function sm2Actions(sm2: Sm2Service): ActionDef[] {
  return [
    {
      name: 'AsymmetricSm2Decrypt',
      stateless: true,
      params: ['KeyId', 'Ciphertext'],
      async run({ principal, params }) {
        const keyId = params.str('KeyId', true);
        const ciphertext = strictBase64(params.str('Ciphertext', true), 'InvalidParameter', 'Ciphertext');
        const plaintext = await sm2.decrypt(principal, keyId, ciphertext);
        return { KeyId: keyId, Plaintext: base64AndWipe(plaintext) };
      },
    },
    {
      name: 'AsymmetricSm2Encrypt',
      stateless: true,
      params: ['KeyId', 'Plaintext'],
      async run({ principal, params }) {
        const keyId = params.str('KeyId', true);
        const plaintext = strictBase64(params.str('Plaintext', true), 'InvalidParameterValue.InvalidPlaintext', 'Plaintext');
        try {
          const ciphertext = await sm2.encrypt(principal, keyId, plaintext);
          return { KeyId: keyId, Ciphertext: ciphertext.toString('base64') };
        } finally {
          wipe(plaintext);
        }
      },
    },
  ];
}

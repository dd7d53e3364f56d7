import { base64AndWipe } from '../../../common/wipe';
import { AsymmetricService, MessageType } from '../../../crypto/asymmetric.service';
import { DecryptionAlgorithm, SigningAlgorithm } from '../../../hsm/key-store';
import { Params } from '../params';
import { TencentError } from '../tencent-error';
import { ActionDef } from './action';
import { strictBase64 } from './base64';
import { SM2_SIGNING, Sm2Signing } from './sm2.actions';
import { Sm2Service } from '../../../crypto/sm2.service';

/** This API's signing algorithm names, as the core names them. */
const SIGNING: Readonly<Record<string, SigningAlgorithm>> = { RSA_PSS_SHA_256: 'rsa-pss-sha256', RSA_PKCS1_SHA_256: 'rsa-pkcs1-sha256', ECC_P256_R1: 'ecdsa-sha256' };
/** Every signing algorithm name: SM2's go to the SM2 service, which works with a profile's vendor mechanisms. */
const ALL_SIGNING: Readonly<Record<string, SigningAlgorithm | Sm2Signing>> = { ...SIGNING, ...SM2_SIGNING };
/** This API's RSA decryption algorithm names, as the core names them. */
const DECRYPTION: Readonly<Record<string, DecryptionAlgorithm>> = { RSAES_PKCS1_V1_5: 'rsa-pkcs1-v1_5', RSAES_OAEP_SHA_1: 'rsa-oaep-sha1', RSAES_OAEP_SHA_256: 'rsa-oaep-sha256' };
const MESSAGE_TYPES: Readonly<Record<string, MessageType>> = { RAW: 'raw', DIGEST: 'digest' };

function oneOf<T>(params: Params, name: string, table: Readonly<Record<string, T>>, fallback?: string): T {
  const v = fallback === undefined ? params.str(name, true) : params.str(name) || fallback;
  if (!Object.prototype.hasOwnProperty.call(table, v)) throw new TencentError('InvalidParameter', `${name} must be one of ${Object.keys(table).join(', ')}`);
  return table[v];
}

const pem = (der: Buffer): string => `-----BEGIN PUBLIC KEY-----\n${der.toString('base64').replace(/.{64}/g, '$&\n').replace(/\n$/, '')}\n-----END PUBLIC KEY-----\n`;

export function asymmetricActions(asym: AsymmetricService, sm2: Sm2Service): ActionDef[] {
  return [
    {
      name: 'GetPublicKey',
      params: ['KeyId'],
      stateless: true,
      async run({ principal, params }) {
        const keyId = params.str('KeyId', true);
        const der = await asym.publicKey(principal, keyId);
        return { KeyId: keyId, PublicKey: der.toString('base64'), PublicKeyPem: pem(der) };
      },
    },
    {
      name: 'SignByAsymmetricKey',
      params: ['Algorithm', 'Message', 'KeyId', 'MessageType'],
      stateless: true,
      async run({ principal, params }) {
        const keyId = params.str('KeyId', true);
        const algorithm = oneOf(params, 'Algorithm', ALL_SIGNING);
        const type = oneOf(params, 'MessageType', MESSAGE_TYPES, 'RAW');
        const message = strictBase64(params.str('Message', true), 'InvalidParameter', 'Message');
        const signature = typeof algorithm === 'object' ? await sm2.sign(principal, keyId, message, type, algorithm.sm2) : await asym.sign(principal, keyId, algorithm, message, type);
        return { Signature: signature.toString('base64') };
      },
    },
    {
      name: 'VerifyByAsymmetricKey',
      params: ['KeyId', 'SignatureValue', 'Message', 'Algorithm', 'MessageType'],
      stateless: true,
      async run({ principal, params }) {
        const keyId = params.str('KeyId', true);
        const algorithm = oneOf(params, 'Algorithm', ALL_SIGNING);
        const type = oneOf(params, 'MessageType', MESSAGE_TYPES, 'RAW');
        const message = strictBase64(params.str('Message', true), 'InvalidParameter', 'Message');
        const signature = strictBase64(params.str('SignatureValue', true), 'InvalidParameter', 'SignatureValue');
        const valid = typeof algorithm === 'object' ? await sm2.verify(principal, keyId, message, type, algorithm.sm2, signature) : await asym.verify(principal, keyId, algorithm, message, type, signature);
        return { SignatureValid: valid };
      },
    },
    {
      name: 'AsymmetricRsaDecrypt',
      params: ['KeyId', 'Ciphertext', 'Algorithm'],
      stateless: true,
      async run({ principal, params }) {
        const keyId = params.str('KeyId', true);
        const algorithm = oneOf(params, 'Algorithm', DECRYPTION);
        const ciphertext = strictBase64(params.str('Ciphertext', true), 'InvalidParameter', 'Ciphertext');
        const plaintext = await asym.decrypt(principal, keyId, algorithm, ciphertext);
        return { KeyId: keyId, Plaintext: base64AndWipe(plaintext) };
      },
    },
  ];
}

import { base64AndWipe, wipe } from '../../../common/wipe';
import { CryptoService, KeyPairSpec } from '../../../crypto/crypto.service';
import { recipientKey } from '../../../crypto/public-key-encryption';
import { Params } from '../params';
import { TencentError } from '../tencent-error';
import { ActionDef } from './action';
import { strictBase64 } from './base64';

/** GenerateAsymmetricKeyPair's KeySpec values. */
const KEY_PAIR_SPECS_BY_NAME: ReadonlyMap<string, KeyPairSpec> = new Map([['SM2', 'sm2']]);

/** A PEM answered as text: the string stays in the heap (see wipe.ts), the bytes do not. */
function textAndWipe(pem: Buffer): string {
  try {
    return pem.toString('latin1');
  } finally {
    wipe(pem);
  }
}

/** EncryptionContext and its kin: at most 1024 characters in this API, shorter than the core's bound. */
const MAX_CONTEXT_CHARS = 1024;
function context(params: Params, name = 'EncryptionContext'): string | undefined {
  const v = params.str(name);
  if (v !== undefined && v.length > MAX_CONTEXT_CHARS) throw new TencentError('InvalidParameter', `${name} is longer than ${MAX_CONTEXT_CHARS} characters`);
  return v;
}

const base64 = strictBase64;

export function cryptoActions(crypto: CryptoService): ActionDef[] {
  return [
    {
      name: 'Encrypt',
      params: ['KeyId', 'Plaintext', 'EncryptionContext'],
      stateless: true,
      async run({ principal, params }) {
        const keyId = params.str('KeyId', true);
        const plaintext = base64(params.str('Plaintext', true), 'InvalidParameterValue.InvalidPlaintext', 'Plaintext');
        try {
          const r = await crypto.encrypt(principal, keyId, plaintext, context(params));
          return { CiphertextBlob: r.blob.toString('base64'), KeyId: r.keyId };
        } finally {
          wipe(plaintext);
        }
      },
    },
    {
      name: 'Decrypt',
      params: ['CiphertextBlob', 'EncryptionContext', 'EncryptionPublicKey', 'EncryptionAlgorithm'],
      stateless: true,
      async run({ principal, params }) {
        const blob = base64(params.str('CiphertextBlob', true), 'InvalidParameterValue.InvalidCiphertext', 'CiphertextBlob');
        const recipient = recipientKey(params.str('EncryptionPublicKey'), params.str('EncryptionAlgorithm'));
        const r = await crypto.decrypt(principal, blob, context(params), recipient);
        return { KeyId: r.keyId, Plaintext: base64AndWipe(r.plaintext) };
      },
    },
    {
      name: 'ReEncrypt',
      params: ['CiphertextBlob', 'DestinationKeyId', 'SourceEncryptionContext', 'DestinationEncryptionContext'],
      stateless: true,
      async run({ principal, params }) {
        const blob = base64(params.str('CiphertextBlob', true), 'InvalidParameterValue.InvalidCiphertext', 'CiphertextBlob');
        // An empty DestinationKeyId means the blob's own key, as documented.
        const destinationKeyId = params.str('DestinationKeyId') || undefined;
        const r = await crypto.reEncrypt(principal, {
          blob,
          destinationKeyId,
          sourceContext: context(params, 'SourceEncryptionContext'),
          destinationContext: context(params, 'DestinationEncryptionContext'),
        });
        return { CiphertextBlob: r.blob.toString('base64'), KeyId: r.keyId, SourceKeyId: r.sourceKeyId, ReEncrypted: r.reEncrypted };
      },
    },
    {
      name: 'GenerateDataKey',
      params: ['KeyId', 'KeySpec', 'NumberOfBytes', 'EncryptionContext', 'EncryptionPublicKey', 'EncryptionAlgorithm'],
      stateless: true,
      async run({ principal, params }) {
        const keyId = params.str('KeyId', true);
        // An empty KeySpec counts as absent, like the other optional strings.
        const keySpec = params.str('KeySpec') || undefined;
        const numberOfBytes = params.uint('NumberOfBytes');
        const recipient = recipientKey(params.str('EncryptionPublicKey'), params.str('EncryptionAlgorithm'));
        const r = await crypto.generateDataKey(principal, { keyId, keySpec, numberOfBytes, context: context(params), recipient });
        return { KeyId: r.keyId, Plaintext: base64AndWipe(r.plaintext), CiphertextBlob: r.blob.toString('base64') };
      },
    },
    {
      name: 'GenerateAsymmetricKeyPair',
      params: ['KeyId', 'KeySpec', 'EncryptionPublicKey', 'EncryptionAlgorithm'],
      async run({ principal, params }) {
        const keyId = params.str('KeyId', true);
        const keySpec = params.str('KeySpec', true);
        const spec = KEY_PAIR_SPECS_BY_NAME.get(keySpec);
        if (!spec) throw new TencentError('InvalidParameter', `KeySpec must be one of ${[...KEY_PAIR_SPECS_BY_NAME.keys()].join(', ')}`);
        const recipient = recipientKey(params.str('EncryptionPublicKey'), params.str('EncryptionAlgorithm'));
        const r = await crypto.generateKeyPair(principal, { keyId, spec, recipient });
        // Without EncryptionPublicKey the PEM text itself, as documented; with it, base64 of the ciphertext.
        const privateKey = recipient ? base64AndWipe(r.privateKey) : textAndWipe(r.privateKey);
        return { KeyId: r.keyId, PrivateKeyPlaintext: privateKey, PublicKeyPlaintext: r.publicPem, PrivateKeyCiphertextBlob: r.blob.toString('base64') };
      },
    },
    {
      name: 'GenerateRandom',
      stateless: true,
      accountWide: true,
      params: ['NumberOfBytes'],
      async run({ params }) {
        const r = await crypto.random(params.requiredUint('NumberOfBytes'));
        return { Plaintext: base64AndWipe(r) };
      },
    },
  ];
}

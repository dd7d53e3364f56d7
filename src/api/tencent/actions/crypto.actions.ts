import { base64AndWipe, wipe } from '../../../common/wipe';
import { CryptoService } from '../../../crypto/crypto.service';
import { recipientKey } from '../../../crypto/public-key-encryption';
import { TencentError } from '../tencent-error';
import { ActionDef } from './action';

const B64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Strict base64: Node's decoder silently skips invalid characters. */
function base64(value: string, code: string, name: string): Buffer {
  if (!B64.test(value)) throw new TencentError(code, `${name} is not valid base64`);
  return Buffer.from(value, 'base64');
}

export function cryptoActions(crypto: CryptoService): ActionDef[] {
  return [
    {
      name: 'Encrypt',
      params: ['KeyId', 'Plaintext', 'EncryptionContext'],
      async run({ principal, params }) {
        const keyId = params.str('KeyId', true);
        const plaintext = base64(params.str('Plaintext', true), 'InvalidParameterValue.InvalidPlaintext', 'Plaintext');
        try {
          const r = await crypto.encrypt(principal, keyId, plaintext, params.str('EncryptionContext'));
          return { CiphertextBlob: r.blob.toString('base64'), KeyId: r.keyId };
        } finally {
          wipe(plaintext);
        }
      },
    },
    {
      name: 'Decrypt',
      params: ['CiphertextBlob', 'EncryptionContext', 'EncryptionPublicKey', 'EncryptionAlgorithm'],
      async run({ principal, params }) {
        const blob = base64(params.str('CiphertextBlob', true), 'InvalidParameterValue.InvalidCiphertext', 'CiphertextBlob');
        const context = params.str('EncryptionContext');
        const recipient = recipientKey(params.str('EncryptionPublicKey'), params.str('EncryptionAlgorithm'));
        const r = await crypto.decrypt(principal, blob, context, recipient);
        return { KeyId: r.keyId, Plaintext: base64AndWipe(r.plaintext) };
      },
    },
    {
      name: 'ReEncrypt',
      params: ['CiphertextBlob', 'DestinationKeyId', 'SourceEncryptionContext', 'DestinationEncryptionContext'],
      async run({ principal, params }) {
        const blob = base64(params.str('CiphertextBlob', true), 'InvalidParameterValue.InvalidCiphertext', 'CiphertextBlob');
        // An empty DestinationKeyId means the blob's own key, as documented.
        const destinationKeyId = params.str('DestinationKeyId') || undefined;
        const r = await crypto.reEncrypt(principal, {
          blob,
          destinationKeyId,
          sourceContext: params.str('SourceEncryptionContext'),
          destinationContext: params.str('DestinationEncryptionContext'),
        });
        return { CiphertextBlob: r.blob.toString('base64'), KeyId: r.keyId, SourceKeyId: r.sourceKeyId, ReEncrypted: r.reEncrypted };
      },
    },
    {
      name: 'GenerateDataKey',
      params: ['KeyId', 'KeySpec', 'NumberOfBytes', 'EncryptionContext', 'EncryptionPublicKey', 'EncryptionAlgorithm'],
      async run({ principal, params }) {
        const keyId = params.str('KeyId', true);
        // An empty KeySpec counts as absent, like the other optional strings.
        const keySpec = params.str('KeySpec') || undefined;
        const numberOfBytes = params.uint('NumberOfBytes');
        const context = params.str('EncryptionContext');
        const recipient = recipientKey(params.str('EncryptionPublicKey'), params.str('EncryptionAlgorithm'));
        const r = await crypto.generateDataKey(principal, { keyId, keySpec, numberOfBytes, context, recipient });
        return { KeyId: r.keyId, Plaintext: base64AndWipe(r.plaintext), CiphertextBlob: r.blob.toString('base64') };
      },
    },
    {
      name: 'GenerateRandom',
      accountWide: true,
      params: ['NumberOfBytes'],
      async run({ params }) {
        const r = await crypto.random(params.requiredUint('NumberOfBytes'));
        return { Plaintext: base64AndWipe(r) };
      },
    },
  ];
}

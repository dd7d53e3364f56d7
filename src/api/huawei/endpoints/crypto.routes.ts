import * as crypto from 'node:crypto';
import { wipe } from '../../../common/wipe';
import { parseBlob } from '../../../crypto/ciphertext-blob';
import { CryptoService } from '../../../crypto/crypto.service';
import { KEY_ID_OUT, obj, str } from '../answers';
import { ENCRYPTION_CONTEXT, KEY_ID, SEQUENCE, Values } from '../fields';
import { huaweiError } from '../huawei-error';
import { RouteDef } from '../route';
import { STRICT_BASE64 } from '../../../common/base64';

const HEX = /^(?:[0-9a-fA-F]{2})+$/;
const DIGEST_BYTES = 32;

/** The core takes the encryption context as JSON text; an absent one is none. */
const context = (body: Values): string | undefined => (body.encryption_context === undefined ? undefined : JSON.stringify(body.encryption_context));
/** Hex answers are upper case, as the document's examples are. */
const hex = (b: Buffer): string => b.toString('hex').toUpperCase();
const sha256 = (b: Buffer): Buffer => crypto.createHash('sha256').update(b).digest();

const DATAKEY_LENGTH = { type: 'uint', min: 8, max: 8192, multipleOf: 8, code: 'badDataKeyLength', description: 'The data key length in bits, a multiple of 8 from 8 to 8192.' } as const;
const KEY_SPEC = { type: 'string', enum: ['AES_256', 'AES_128'], description: 'AES_256 or AES_128; datakey_length wins when both are given; 256 bits when neither is.' } as const;

/** The data key length in bytes a request asks for. */
const dataKeyBytes = (body: Values): { numberOfBytes?: number; keySpec?: string } =>
  body.datakey_length !== undefined ? { numberOfBytes: (body.datakey_length as number) / 8 } : { keySpec: (body.key_spec as string | undefined) ?? 'AES_256' };

/** Random data, data keys and data encryption with a CMK. */
export function cryptoRoutes(cryptoService: CryptoService): RouteDef[] {
  return [
    {
      method: 'POST',
      name: 'gen-random',
      path: '/v1.0/{project_id}/kms/gen-random',
      operation: 'GenerateRandom',
      summary: 'Random data from the HSM, 8 to 8192 bits, in hex.',
      answer: obj({ random_data: str('The random bytes, hex (upper case).') }),
      rateLimit: 150,
      accountWide: true,
      fields: {
        random_data_length: { type: 'uint', required: true, min: 8, max: 8192, multipleOf: 8, code: 'badRandomLength', description: 'Bits, a multiple of 8 from 8 to 8192.' },
        sequence: SEQUENCE,
      },
      async run({ body }) {
        const r = await cryptoService.random((body.random_data_length as number) / 8);
        try {
          return { random_data: hex(r) };
        } finally {
          wipe(r);
        }
      },
    },
    {
      method: 'POST',
      name: 'create-datakey',
      path: '/v1.0/{project_id}/kms/create-datakey',
      operation: 'GenerateDataKey',
      summary: 'A data key, in hex, and its ciphertext under the CMK (hex).',
      answer: obj({ key_id: KEY_ID_OUT, plain_text: str('The data key, hex.'), cipher_text: str('The data key encrypted under the CMK, hex.') }),
      rateLimit: 100,
      fields: { key_id: KEY_ID, encryption_context: ENCRYPTION_CONTEXT, datakey_length: DATAKEY_LENGTH, key_spec: KEY_SPEC, sequence: SEQUENCE },
      async run({ principal, body }) {
        const r = await cryptoService.generateDataKey(principal, { keyId: body.key_id as string, ...dataKeyBytes(body), context: context(body) });
        try {
          return { key_id: r.keyId, plain_text: hex(r.plaintext), cipher_text: hex(r.blob) };
        } finally {
          wipe(r.plaintext);
        }
      },
    },
    {
      method: 'POST',
      name: 'create-datakey-without-plaintext',
      path: '/v1.0/{project_id}/kms/create-datakey-without-plaintext',
      operation: 'GenerateDataKey',
      summary: "A data key's ciphertext under the CMK (hex), without the data key.",
      answer: obj({ key_id: KEY_ID_OUT, cipher_text: str('The data key encrypted under the CMK, hex.') }),
      rateLimit: 100,
      fields: { key_id: KEY_ID, encryption_context: ENCRYPTION_CONTEXT, datakey_length: DATAKEY_LENGTH, key_spec: KEY_SPEC, sequence: SEQUENCE },
      async run({ principal, body }) {
        const r = await cryptoService.generateDataKey(principal, { keyId: body.key_id as string, ...dataKeyBytes(body), context: context(body) });
        wipe(r.plaintext);
        return { key_id: r.keyId, cipher_text: hex(r.blob) };
      },
    },
    {
      method: 'POST',
      name: 'encrypt-datakey',
      path: '/v1.0/{project_id}/kms/encrypt-datakey',
      operation: 'Encrypt',
      summary: 'Encrypt a data key given with its SHA-256 digest (hex), after checking the digest.',
      answer: obj({ key_id: KEY_ID_OUT, cipher_text: str('The data key encrypted under the CMK, hex.'), datakey_length: str('The data key length in bytes.') }),
      rateLimit: 300,
      fields: {
        key_id: KEY_ID,
        encryption_context: ENCRYPTION_CONTEXT,
        plain_text: { type: 'string', required: true, max: 2 * (1024 + DIGEST_BYTES), pattern: HEX, code: 'badPlainText', description: 'The data key followed by its SHA-256 digest (32 bytes), in hex.' },
        datakey_plain_length: { type: 'uint', required: true, min: 1, max: 1024, code: 'badPlainLength', description: 'The data key length in bytes, 1 to 1024.' },
        sequence: SEQUENCE,
      },
      async run({ principal, body }) {
        const length = body.datakey_plain_length as number;
        const given = Buffer.from(body.plain_text as string, 'hex');
        try {
          if (given.length !== length + DIGEST_BYTES) throw huaweiError('badPlainLength', `plain_text holds ${given.length} bytes, not datakey_plain_length (${length}) plus the 32 of the digest`);
          const dataKey = given.subarray(0, length);
          if (!crypto.timingSafeEqual(sha256(dataKey), given.subarray(length))) throw huaweiError('plainDigestMismatch', 'the digest in plain_text is not the SHA-256 of the data key');
          const r = await cryptoService.encrypt(principal, body.key_id as string, dataKey, context(body));
          return { key_id: r.keyId, cipher_text: hex(r.blob), datakey_length: String(length) };
        } finally {
          wipe(given);
        }
      },
    },
    {
      method: 'POST',
      name: 'decrypt-datakey',
      path: '/v1.0/{project_id}/kms/decrypt-datakey',
      operation: 'Decrypt',
      summary: 'Decrypt a data key (hex ciphertext); answers it with its length and SHA-256 digest.',
      answer: obj({ data_key: str('The data key, hex.'), datakey_length: str('The data key length in bytes.'), datakey_dgst: str('SHA-256 of the data key, hex.'), datakey_digest: str('The same digest, by the name the document gives it.') }),
      rateLimit: 300,
      fields: {
        key_id: KEY_ID,
        encryption_context: ENCRYPTION_CONTEXT,
        cipher_text: { type: 'string', required: true, max: 2 * 4096, pattern: HEX, code: 'badCipherText', description: 'The cipher_text of create-datakey or encrypt-datakey, in hex.' },
        datakey_cipher_length: { type: 'uint', required: true, min: 1, max: 1024, code: 'badCipherLength', description: 'The data key length in bytes, 1 to 1024.' },
        sequence: SEQUENCE,
      },
      async run({ principal, body }) {
        const blob = Buffer.from(body.cipher_text as string, 'hex');
        if (parseBlob(blob).keyId !== body.key_id) throw huaweiError('badCipherText', 'cipher_text was not made with key_id');
        const r = await cryptoService.decrypt(principal, blob, context(body));
        try {
          const length = body.datakey_cipher_length as number;
          if (r.plaintext.length !== length) throw huaweiError('badCipherLength', `the data key is ${r.plaintext.length} bytes, not datakey_cipher_length (${length})`);
          const digest = hex(sha256(r.plaintext));
          // datakey_dgst is what the SDKs read; datakey_digest is the document's name for it.
          return { data_key: hex(r.plaintext), datakey_length: String(length), datakey_dgst: digest, datakey_digest: digest };
        } finally {
          wipe(r.plaintext);
        }
      },
    },
    {
      method: 'POST',
      name: 'encrypt-data',
      path: '/v1.0/{project_id}/kms/encrypt-data',
      operation: 'Encrypt',
      summary: 'Encrypt 1 to 4096 bytes (UTF-8 text); the ciphertext in base64.',
      answer: obj({ key_id: KEY_ID_OUT, cipher_text: str('The ciphertext, base64.') }),
      rateLimit: 300,
      fields: {
        key_id: KEY_ID,
        encryption_context: ENCRYPTION_CONTEXT,
        plain_text: { type: 'string', required: true, min: 1, max: 4096, description: 'The data, 1 to 4096 bytes once UTF-8 encoded.' },
        sequence: SEQUENCE,
      },
      async run({ principal, body }) {
        const plaintext = Buffer.from(body.plain_text as string, 'utf8');
        try {
          if (plaintext.length > 4096) throw huaweiError('invalid', `plain_text is ${plaintext.length} bytes once UTF-8 encoded; at most 4096`);
          const r = await cryptoService.encrypt(principal, body.key_id as string, plaintext, context(body));
          return { key_id: r.keyId, cipher_text: r.blob.toString('base64') };
        } finally {
          wipe(plaintext);
        }
      },
    },
    {
      method: 'POST',
      name: 'decrypt-data',
      path: '/v1.0/{project_id}/kms/decrypt-data',
      operation: 'Decrypt',
      summary: 'Decrypt the cipher_text of encrypt-data (base64).',
      answer: obj({ key_id: KEY_ID_OUT, plain_text: str('The data as UTF-8 text.'), plain_text_base64: str('The data, base64.') }),
      rateLimit: 300,
      fields: {
        cipher_text: { type: 'string', required: true, min: 4, max: 5648, pattern: STRICT_BASE64, code: 'badCipherText', description: 'The cipher_text of encrypt-data, base64.' },
        encryption_context: ENCRYPTION_CONTEXT,
        sequence: SEQUENCE,
      },
      async run({ principal, body }) {
        const r = await cryptoService.decrypt(principal, Buffer.from(body.cipher_text as string, 'base64'), context(body));
        try {
          // plain_text_base64 also carries data that is not UTF-8 text (encrypted through another face).
          return { key_id: r.keyId, plain_text: r.plaintext.toString('utf8'), plain_text_base64: r.plaintext.toString('base64') };
        } finally {
          wipe(r.plaintext);
        }
      },
    },
  ];
}

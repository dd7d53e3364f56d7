import { ImportService } from '../../../import/import.service';
import { KeysService } from '../../../keys/keys.service';
import { KEY_ID_OUT, obj, str } from '../answers';
import { KEY_ID, SEQUENCE } from '../fields';
import { huaweiError } from '../huawei-error';
import { WRAPPING_ALGORITHM_NAMES, WRAPPING_KEY_SPEC, wrappingAlgorithmOf } from '../key-rules';
import { RouteDef } from '../route';
import { STRICT_BASE64 } from '../../../common/base64';

/**
 * BYOK for keys created with origin "external": import parameters, key material, and its
 * deletion. The import token issued here is 44 base64 characters, shorter than the 200 the
 * document's pattern asks for, so any base64 text up to 6144 characters is taken.
 */
export function importRoutes(imports: ImportService, keys: KeysService): RouteDef[] {
  return [
    {
      name: 'get-parameters-for-import',
      method: 'POST',
      path: '/v1.0/{project_id}/kms/get-parameters-for-import',
      operation: 'GetParametersForImport',
      summary: 'An import token and an RSA-2048 public key (base64 DER) to wrap the material with, valid 24 hours.',
      rateLimit: 10,
      fields: {
        key_id: KEY_ID,
        wrapping_algorithm: { type: 'string', required: true, enum: WRAPPING_ALGORITHM_NAMES, description: 'How the material will be wrapped: RSAES_PKCS1_V1_5, RSAES_OAEP_SHA_1 or RSAES_OAEP_SHA_256 (those the HSM supports).' },
        sequence: SEQUENCE,
      },
      answer: obj({
        key_id: KEY_ID_OUT,
        import_token: str('The import token, base64.'),
        expiration_time: str('When the parameters expire, Unix seconds.'),
        public_key: str('The RSA-2048 wrapping key, SubjectPublicKeyInfo DER in base64.'),
      }),
      async run({ principal, body }) {
        const r = await imports.parameters(principal, body.key_id as string, wrappingAlgorithmOf(body.wrapping_algorithm as string), WRAPPING_KEY_SPEC);
        return { key_id: r.keyId, import_token: r.importToken, expiration_time: String(r.validTo), public_key: r.publicKey.toString('base64') };
      },
    },
    {
      name: 'import-key-material',
      method: 'POST',
      path: '/v1.0/{project_id}/kms/import-key-material',
      operation: 'ImportKeyMaterial',
      summary: 'Import 256-bit key material wrapped with the public key of the import token; the same material again renews its expiration.',
      rateLimit: 10,
      fields: {
        key_id: KEY_ID,
        import_token: { type: 'string', required: true, min: 1, max: 6144, pattern: /^[0-9a-zA-Z+/=]+$/, code: 'badImportToken', description: 'The import token of get-parameters-for-import (base64).' },
        encrypted_key_material: { type: 'string', required: true, min: 344, max: 360, pattern: STRICT_BASE64, description: 'The wrapped material, base64.' },
        expiration_time: { type: 'uint', min: 0, max: 2_147_443_200, code: 'badExpiration', description: 'Unix seconds when the material is deleted; absent or 0: never.' },
        sequence: SEQUENCE,
      },
      answer: obj({}, 'Nothing.'),
      async run({ principal, body }) {
        await imports.importMaterial(principal, {
          keyId: body.key_id as string,
          wrapped: Buffer.from(body.encrypted_key_material as string, 'base64'),
          importToken: body.import_token as string,
          validTo: (body.expiration_time as number | undefined) ?? 0,
        });
        return {};
      },
    },
    {
      name: 'delete-imported-key-material',
      method: 'POST',
      path: '/v1.0/{project_id}/kms/delete-imported-key-material',
      operation: 'DeleteImportedKeyMaterial',
      summary: 'Delete the imported material of an enabled or disabled key; it becomes pending import, and only the same material can come back.',
      rateLimit: 10,
      fields: { key_id: KEY_ID, sequence: SEQUENCE },
      answer: obj({}, 'Nothing.'),
      async run({ principal, body }) {
        const keyId = body.key_id as string;
        // The core takes a key without material as done; this API refuses it as not enabled or disabled.
        const { key } = await keys.getUncached(principal, keyId);
        if (key.origin === 'imported' && key.keyState === 'PendingImport') throw huaweiError('materialNotDeletable', 'the key has no material: it is pending import');
        await imports.deleteMaterial(principal, keyId);
        return {};
      },
    },
  ];
}

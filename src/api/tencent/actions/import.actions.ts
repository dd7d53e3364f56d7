import { ImportService } from '../../../import/import.service';
import { TencentError } from '../tencent-error';
import { ActionDef } from './action';
import { Log } from '../../../common/logger';
import { wrappingAlgorithmName, wrappingAlgorithmOf, wrappingKeySpecOf } from '../key-rules';
import { STRICT_BASE64 } from '../../../common/base64';

/** The operator learns, once per process and in this API's names, what clients may ask for. */
let reported = false;
async function reportWrapping(imports: ImportService): Promise<void> {
  if (reported) return;
  const supported = await imports.wrappingAlgorithms().catch(() => null);
  if (!supported || reported) return;
  reported = true;
  Log.info('wrapping algorithms for imported key material, as measured on the token', { supported: supported.map(wrappingAlgorithmName) });
}

/** BYOK: import parameters, importing key material, and deleting it. */
export function importActions(imports: ImportService): ActionDef[] {
  return [
    {
      name: 'GetParametersForImport',
      params: ['KeyId', 'WrappingAlgorithm', 'WrappingKeySpec'],
      async run({ principal, params }) {
        const keyId = params.str('KeyId', true);
        const algorithm = wrappingAlgorithmOf(params.str('WrappingAlgorithm', true));
        const r = await imports.parameters(principal, keyId, algorithm, wrappingKeySpecOf(params.str('WrappingKeySpec', true))).finally(() => reportWrapping(imports));
        return { KeyId: r.keyId, ImportToken: r.importToken, PublicKey: r.publicKey.toString('base64'), ParametersValidTo: r.validTo };
      },
    },
    {
      name: 'ImportKeyMaterial',
      params: ['EncryptedKeyMaterial', 'ImportToken', 'KeyId', 'ValidTo'],
      async run({ principal, params }) {
        const keyId = params.str('KeyId', true);
        const material = params.str('EncryptedKeyMaterial', true);
        // Strict base64: Node's decoder silently skips invalid characters.
        if (!STRICT_BASE64.test(material)) throw new TencentError('InvalidParameter', 'EncryptedKeyMaterial is not valid base64');
        await imports.importMaterial(principal, { keyId, wrapped: Buffer.from(material, 'base64'), importToken: params.str('ImportToken', true), validTo: params.uint('ValidTo', 0)! });
        return {};
      },
    },
    {
      name: 'DeleteImportedKeyMaterial',
      params: ['KeyId'],
      async run({ principal, params }) {
        await imports.deleteMaterial(principal, params.str('KeyId', true));
        return {};
      },
    },
  ];
}

import { CmkAlgorithm } from '../hsm/cmk-algorithms';
import { KeyStore } from '../hsm/key-store';
import { CmkKindAlgorithm, KeyUsage, SUPPORTED_CMK_KINDS, isAsymmetricSpec, isPairPurpose, keyKind, pairKindAvailable } from '../keys/key-params';

export interface AlgorithmInfo {
  keyUsage: KeyUsage;
  algorithm: CmkKindAlgorithm;
}

export interface AlgorithmCatalog {
  symmetric: AlgorithmInfo[];
  asymmetric: AlgorithmInfo[];
  signVerify: AlgorithmInfo[];
}

/**
 * What a CMK can be here: the kinds CreateKey makes (SUPPORTED_CMK_KINDS) that the token
 * supports; key pairs only where the token was measured to perform their algorithms.
 */
export async function algorithmCatalog(tokenAlgorithms: readonly CmkAlgorithm[], store: KeyStore): Promise<AlgorithmCatalog> {
  const catalog: AlgorithmCatalog = { symmetric: [], asymmetric: [], signVerify: [] };
  for (const k of SUPPORTED_CMK_KINDS) {
    const { spec, purpose } = keyKind(k.keyUsage);
    if (purpose === 'encrypt-decrypt') {
      if ((tokenAlgorithms as readonly string[]).includes(k.algorithm)) catalog.symmetric.push(k);
    } else if (isAsymmetricSpec(spec) && isPairPurpose(purpose) && (await pairKindAvailable(store, spec, purpose))) {
      (purpose === 'sign' ? catalog.signVerify : catalog.asymmetric).push(k);
    }
  }
  return catalog;
}

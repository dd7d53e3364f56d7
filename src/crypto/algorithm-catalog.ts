import { CmkAlgorithm } from '../hsm/cmk-algorithms';
import { SUPPORTED_CMK_KINDS } from '../keys/key-params';

export interface AlgorithmInfo {
  keyUsage: string;
  algorithm: string;
}

export interface AlgorithmCatalog {
  symmetric: AlgorithmInfo[];
  asymmetric: AlgorithmInfo[];
  signVerify: AlgorithmInfo[];
}

/**
 * What a CMK can be here: the kinds CreateKey makes (SUPPORTED_CMK_KINDS) that the token
 * supports. Nothing asymmetric is listed until CreateKey makes such keys.
 */
export function algorithmCatalog(tokenAlgorithms: readonly CmkAlgorithm[]): AlgorithmCatalog {
  return { symmetric: SUPPORTED_CMK_KINDS.filter((k) => tokenAlgorithms.includes(k.algorithm)), asymmetric: [], signVerify: [] };
}

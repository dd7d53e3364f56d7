import { EncryptSDKError } from './errors';

/** The seed's Algorithm enum with its numeric values; values from 101 on are this SDK's own. */
export enum Algorithm {
  SM4_CBC_128_WITH_SIGNATURE = 1,
  SM4_CBC_128 = 2,
  SM4_GCM_128_WITH_SIGNATURE = 3,
  SM4_GCM_128 = 4,
  SM4_CTR_128_WITH_SIGNATURE = 5,
  SM4_CTR_128 = 6,
  SM4_ECB_128_WITH_SIGNATURE = 7,
  SM4_ECB_128 = 8,
  AES_256_GCM = 101,
}

/** The seed's BlockType: whether the body is cut into frames of `blockLength` bytes. */
export enum BlockType {
  WITHOUT_BLOCK = 1,
  WITH_BLOCK = 2,
}

export type Mode = 'cbc' | 'ctr' | 'ecb' | 'gcm';

/** What an algorithm means for the message: cipher, key and IV sizes, tag, signature. */
export interface Suite {
  algorithm: Algorithm;
  name: string;
  cipher: 'sm4' | 'aes-256';
  mode: Mode;
  keyBytes: 16 | 32;
  /** The hash of the key derivation and of the header and frame MACs. */
  hash: 'sm3' | 'sha256';
  /** Frames carry an HMAC (SM3) over their ciphertext: the seed's `_WITH_SIGNATURE`. */
  signed: boolean;
  ivBytes: number;
  /** GCM's authentication tag. */
  tagBytes: number;
}

export const MAC_BYTES = 32;
const IV_BYTES: Record<Mode, number> = { cbc: 16, ctr: 16, ecb: 0, gcm: 12 };

function sm4(algorithm: Algorithm, mode: Mode, signed: boolean): Suite {
  return { algorithm, name: Algorithm[algorithm], cipher: 'sm4', mode, keyBytes: 16, hash: 'sm3', signed, ivBytes: IV_BYTES[mode], tagBytes: mode === 'gcm' ? 16 : 0 };
}

const SUITES: ReadonlyMap<number, Suite> = new Map(
  [
    sm4(Algorithm.SM4_CBC_128_WITH_SIGNATURE, 'cbc', true),
    sm4(Algorithm.SM4_CBC_128, 'cbc', false),
    sm4(Algorithm.SM4_GCM_128_WITH_SIGNATURE, 'gcm', true),
    sm4(Algorithm.SM4_GCM_128, 'gcm', false),
    sm4(Algorithm.SM4_CTR_128_WITH_SIGNATURE, 'ctr', true),
    sm4(Algorithm.SM4_CTR_128, 'ctr', false),
    sm4(Algorithm.SM4_ECB_128_WITH_SIGNATURE, 'ecb', true),
    sm4(Algorithm.SM4_ECB_128, 'ecb', false),
    { algorithm: Algorithm.AES_256_GCM, name: 'AES_256_GCM', cipher: 'aes-256', mode: 'gcm', keyBytes: 32, hash: 'sha256', signed: false, ivBytes: 12, tagBytes: 16 } as Suite,
  ].map((s) => [s.algorithm, s]),
);

export const ALGORITHMS: readonly Suite[] = [...SUITES.values()];

/** The suite of an algorithm value; anything else is the seed's CheckAlgorithmError. */
export function suiteOf(algorithm: unknown): Suite {
  const s = typeof algorithm === 'number' ? SUITES.get(algorithm) : undefined;
  if (!s) throw new EncryptSDKError('CheckAlgorithmError', `algorithm ${String(algorithm)} is not one of ${ALGORITHMS.map((x) => `${x.name} (${x.algorithm})`).join(', ')}`);
  return s;
}

/** `SM4_GCM_128` → its suite (the CLI's `--algorithm`). */
export function suiteByName(name: string): Suite | undefined {
  return ALGORITHMS.find((s) => s.name === name);
}

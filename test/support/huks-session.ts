import huks, { HuksOptions, HuksParam, HuksTag } from '../../src/client/huks';
import { Credential, KmsService } from './kms-service';

/** Helpers for tests that drive the HUKS face through the client library only. */

export const REGION = 'ap-guangzhou';

/** Points the client at the service as the given account. */
export function useAccount(kms: KmsService, cred: Credential, region = REGION): void {
  huks.configure({ endpoint: `http://${kms.endpoint}`, secretId: cred.SecretId, secretKey: cred.SecretKey, region });
}

const { HuksKeyAlg: ALG, HuksKeyPurpose: PURPOSE, HuksCipherMode: MODE, HuksKeyPadding: PAD } = huks;

export const aesKey = (bits: number, purpose = PURPOSE.HUKS_KEY_PURPOSE_ENCRYPT | PURPOSE.HUKS_KEY_PURPOSE_DECRYPT): HuksParam[] => [
  { tag: HuksTag.HUKS_TAG_ALGORITHM, value: ALG.HUKS_ALG_AES },
  { tag: HuksTag.HUKS_TAG_KEY_SIZE, value: bits },
  { tag: HuksTag.HUKS_TAG_PURPOSE, value: purpose },
];

export interface GcmParams {
  bits: number;
  nonce: Uint8Array;
  aad?: Uint8Array;
  aeTag?: Uint8Array;
}

export const gcm = (purpose: number, p: GcmParams): HuksParam[] => [
  ...aesKey(p.bits, purpose),
  { tag: HuksTag.HUKS_TAG_BLOCK_MODE, value: MODE.HUKS_MODE_GCM },
  { tag: HuksTag.HUKS_TAG_PADDING, value: PAD.HUKS_PADDING_NONE },
  { tag: HuksTag.HUKS_TAG_NONCE, value: p.nonce },
  ...(p.aad ? [{ tag: HuksTag.HUKS_TAG_ASSOCIATED_DATA, value: p.aad }] : []),
  ...(p.aeTag ? [{ tag: HuksTag.HUKS_TAG_AE_TAG, value: p.aeTag }] : []),
];

export const u8 = (b: Buffer | string): Uint8Array => new Uint8Array(typeof b === 'string' ? Buffer.from(b) : b);
export const buf = (u: Uint8Array | undefined): Buffer => Buffer.from(u ?? new Uint8Array(0));

/** Runs a whole session: init, an update per segment, finish (with `last` as its inData); the outputs joined. */
export async function stream(alias: string, properties: HuksParam[], segments: Uint8Array[], last?: Uint8Array, finishProps: HuksParam[] = properties): Promise<Buffer> {
  const { handle } = await huks.initSession(alias, { properties });
  const out: Buffer[] = [];
  for (const s of segments) out.push(buf((await huks.updateSession(handle, { properties, inData: s })).outData));
  const fin: HuksOptions = { properties: finishProps };
  if (last) fin.inData = last;
  out.push(buf((await huks.finishSession(handle, fin)).outData));
  return Buffer.concat(out);
}

/** Splits data into segments of `size` bytes. */
export function segments(data: Buffer, size: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let i = 0; i < data.length; i += size) out.push(u8(data.subarray(i, i + size)));
  return out;
}

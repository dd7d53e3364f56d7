import { InvalidCiphertextError } from '../common/domain-errors';

/**
 * The ciphertext blob, format version 1 (docs/ciphertext-format.md):
 *
 *   offset  size  field
 *   0       2     magic "KM" (0x4b 0x4d)
 *   2       1     format version = 1
 *   3       16    key id (the CMK's UUID, binary)
 *   19      4     key version, unsigned big-endian
 *   23      12    AES-GCM IV
 *   35      n     ciphertext
 *   35+n    16    GCM tag
 *
 * Bytes 0..22 (the header) are part of the AAD, so no field can be changed undetected.
 */
export const MAGIC = Buffer.from('KM', 'latin1');
export const FORMAT_V1 = 1;
export const HEADER_BYTES = 23;
export const IV_BYTES = 12;
export const TAG_BYTES = 16;
export const OVERHEAD = HEADER_BYTES + IV_BYTES + TAG_BYTES;

export interface ParsedBlob {
  keyId: string;
  keyVersion: number;
  header: Buffer;
  iv: Buffer;
  /** ciphertext || tag */
  sealed: Buffer;
}

function uuidToBytes(id: string): Buffer {
  return Buffer.from(id.replace(/-/g, ''), 'hex');
}
function bytesToUuid(b: Buffer): string {
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

export function encodeHeader(keyId: string, keyVersion: number): Buffer {
  const h = Buffer.alloc(HEADER_BYTES);
  MAGIC.copy(h, 0);
  h[2] = FORMAT_V1;
  uuidToBytes(keyId).copy(h, 3);
  h.writeUInt32BE(keyVersion, 19);
  return h;
}

export function encodeBlob(header: Buffer, iv: Buffer, sealed: Buffer): Buffer {
  return Buffer.concat([header, iv, sealed]);
}

export function parseBlob(blob: Buffer): ParsedBlob {
  if (blob.length < OVERHEAD) throw new InvalidCiphertextError('the ciphertext is too short');
  if (blob[0] !== MAGIC[0] || blob[1] !== MAGIC[1]) throw new InvalidCiphertextError('the ciphertext was not produced by this service');
  if (blob[2] !== FORMAT_V1) throw new InvalidCiphertextError(`unknown ciphertext format version ${blob[2]}`);
  const keyVersion = blob.readUInt32BE(19);
  if (keyVersion === 0) throw new InvalidCiphertextError('the ciphertext names key version 0');
  return {
    keyId: bytesToUuid(blob.subarray(3, 19)),
    keyVersion,
    header: blob.subarray(0, HEADER_BYTES),
    iv: blob.subarray(HEADER_BYTES, HEADER_BYTES + IV_BYTES),
    sealed: blob.subarray(HEADER_BYTES + IV_BYTES),
  };
}

import { InvalidParameterError } from '../common/domain-errors';

/** GenerateDataKey's KeySpec values and the data key length each names. */
const DATA_KEY_SPECS: Readonly<Record<string, number>> = { AES_128: 16, AES_256: 32 };
const MAX_DATA_KEY_BYTES = 1024;

/**
 * The data key length in bytes. One of KeySpec and NumberOfBytes must be given; when both
 * are, NumberOfBytes wins, as documented (KeySpec must still be a valid name).
 */
export function dataKeyBytes(keySpec: string | undefined, numberOfBytes: number | undefined): number {
  if (keySpec !== undefined && !Object.hasOwn(DATA_KEY_SPECS, keySpec)) throw new InvalidParameterError('dataKeySpec', (n) => `${n('dataKeySpec')} must be one of ${Object.keys(DATA_KEY_SPECS).join(', ')}`);
  if (numberOfBytes !== undefined) {
    if (numberOfBytes < 1 || numberOfBytes > MAX_DATA_KEY_BYTES) throw new InvalidParameterError('dataKeyBytes', (n) => `${n('dataKeyBytes')} must be 1..${MAX_DATA_KEY_BYTES}`);
    return numberOfBytes;
  }
  if (keySpec === undefined) throw new InvalidParameterError('dataKeySpec', (n) => `one of ${n('dataKeySpec')} and ${n('dataKeyBytes')} is required`);
  return DATA_KEY_SPECS[keySpec];
}

import { BusinessError } from './business-error';
import { HuksTag } from './enums';

export interface HuksParam {
  tag: HuksTag;
  value: boolean | number | bigint | Uint8Array;
}

export interface HuksOptions {
  properties?: Array<HuksParam>;
  inData?: Uint8Array;
}

export interface HuksSessionHandle {
  handle: number;
  challenge?: Uint8Array;
}

export interface HuksReturnResult {
  outData?: Uint8Array;
  properties?: Array<HuksParam>;
  certChains?: Array<string>;
}

/** As `@ohos.base` AsyncCallback: `err` is null when the call succeeded, `data` then holds its result. */
export type AsyncCallback<T> = (err: BusinessError | null, data: T) => void;

/** Everything the `huks` namespace holds. */
export { abortSession, deleteKeyItem, exportKeyItem, finishSession, generateKeyItem, hasKeyItem, importKeyItem, initSession, updateSession } from './api';
export { BusinessError } from './business-error';
export { configure, type HuksClientConfig } from './config';
export * from './enums';
export type { AsyncCallback, HuksOptions, HuksParam, HuksReturnResult, HuksSessionHandle } from './types';

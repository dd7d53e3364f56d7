import { checkAlias, checkCallback, checkHandle, checkOptions, checkToken } from './arguments';
import { BusinessError } from './business-error';
import { resolveConfig } from './config';
import { HuksExceptionErrCode } from './enums';
import { call } from './transport';
import { AsyncCallback, HuksOptions, HuksReturnResult, HuksSessionHandle } from './types';
import { bytesFromJson, optionsToJson } from './wire';

/**
 * The functions of seed 000, each in its callback and its Promise form. Arguments are checked
 * first (401, thrown synchronously in both forms); then the settings (12000013 when missing);
 * only then is a request sent.
 */

type Json = Record<string, unknown>;

function send(operation: string, body: Json): Promise<Json> {
  try {
    return call(resolveConfig(), operation, body);
  } catch (e) {
    return Promise.reject(e);
  }
}

/** Answers a callback (never synchronously, and outside the promise so its own throws are not swallowed) or returns the promise. */
function settle<T>(p: Promise<T>, callback: AsyncCallback<T> | undefined): Promise<T> | void {
  if (!callback) return p;
  p.then(
    (data) => process.nextTick(() => callback(null, data)),
    (err: unknown) => {
      const e = err instanceof BusinessError ? err : new BusinessError(HuksExceptionErrCode.HUKS_ERR_CODE_CALL_SERVICE_FAILED, String(err));
      process.nextTick(() => callback(e, undefined as T));
    },
  );
}

/** The optional trailing callback of a (…, options, callback?) form. */
function callbackOf<T>(args: IArguments, at: number): AsyncCallback<T> | undefined {
  if (args.length <= at) return undefined;
  checkCallback(args[at]);
  return args[at] as AsyncCallback<T>;
}

const nothing = (): void => undefined;

export function generateKeyItem(keyAlias: string, options: HuksOptions, callback: AsyncCallback<void>): void;
export function generateKeyItem(keyAlias: string, options: HuksOptions): Promise<void>;
export function generateKeyItem(keyAlias: string, options: HuksOptions, callback?: AsyncCallback<void>): Promise<void> | void {
  const body = { keyAlias: checkAlias(keyAlias), options: optionsToJson(checkOptions(options)) };
  if (arguments.length > 2) checkCallback(callback);
  return settle(send('generateKeyItem', body).then(nothing), callback);
}

export function importKeyItem(keyAlias: string, options: HuksOptions, callback: AsyncCallback<void>): void;
export function importKeyItem(keyAlias: string, options: HuksOptions): Promise<void>;
export function importKeyItem(keyAlias: string, options: HuksOptions, callback?: AsyncCallback<void>): Promise<void> | void {
  const body = { keyAlias: checkAlias(keyAlias), options: optionsToJson(checkOptions(options)) };
  if (arguments.length > 2) checkCallback(callback);
  return settle(send('importKeyItem', body).then(nothing), callback);
}

export function deleteKeyItem(keyAlias: string, options: HuksOptions, callback: AsyncCallback<void>): void;
export function deleteKeyItem(keyAlias: string, options: HuksOptions): Promise<void>;
export function deleteKeyItem(keyAlias: string, options: HuksOptions, callback?: AsyncCallback<void>): Promise<void> | void {
  const body = { keyAlias: checkAlias(keyAlias), options: optionsToJson(checkOptions(options)) };
  if (arguments.length > 2) checkCallback(callback);
  return settle(send('deleteKeyItem', body).then(nothing), callback);
}

export function hasKeyItem(keyAlias: string, options: HuksOptions, callback: AsyncCallback<boolean>): void;
export function hasKeyItem(keyAlias: string, options: HuksOptions): Promise<boolean>;
export function hasKeyItem(keyAlias: string, options: HuksOptions, callback?: AsyncCallback<boolean>): Promise<boolean> | void {
  const body = { keyAlias: checkAlias(keyAlias), options: optionsToJson(checkOptions(options)) };
  if (arguments.length > 2) checkCallback(callback);
  const answer = send('hasKeyItem', body).then((a) => {
    if (typeof a.exists !== 'boolean') throw new BusinessError(HuksExceptionErrCode.HUKS_ERR_CODE_CALL_SERVICE_FAILED, 'The service answered without "exists".');
    return a.exists;
  });
  return settle(answer, callback);
}

/** A key pair's public key (SubjectPublicKeyInfo DER) as `outData`; secret keys are never exported. */
export function exportKeyItem(keyAlias: string, options: HuksOptions, callback: AsyncCallback<HuksReturnResult>): void;
export function exportKeyItem(keyAlias: string, options: HuksOptions): Promise<HuksReturnResult>;
export function exportKeyItem(keyAlias: string, options: HuksOptions, callback?: AsyncCallback<HuksReturnResult>): Promise<HuksReturnResult> | void {
  const body = { keyAlias: checkAlias(keyAlias), options: optionsToJson(checkOptions(options)) };
  if (arguments.length > 2) checkCallback(callback);
  return settle(send('exportKeyItem', body).then((a): HuksReturnResult => ({ outData: bytesFromJson(a.outData, 'outData') })), callback);
}

export function initSession(keyAlias: string, options: HuksOptions, callback: AsyncCallback<HuksSessionHandle>): void;
export function initSession(keyAlias: string, options: HuksOptions): Promise<HuksSessionHandle>;
export function initSession(keyAlias: string, options: HuksOptions, callback?: AsyncCallback<HuksSessionHandle>): Promise<HuksSessionHandle> | void {
  const body = { keyAlias: checkAlias(keyAlias), options: optionsToJson(checkOptions(options)) };
  if (arguments.length > 2) checkCallback(callback);
  const answer = send('initSession', body).then((a): HuksSessionHandle => {
    if (typeof a.handle !== 'number' || !Number.isSafeInteger(a.handle)) throw new BusinessError(HuksExceptionErrCode.HUKS_ERR_CODE_CALL_SERVICE_FAILED, 'The service answered without a handle.');
    return a.challenge === undefined ? { handle: a.handle } : { handle: a.handle, challenge: bytesFromJson(a.challenge, 'challenge') };
  });
  return settle(answer, callback);
}

/**
 * update/finish take (handle, options, callback), (handle, options, token, callback) or
 * (handle, options, token?) for the Promise. The token authorizes keys bound to user
 * authentication; no key here is, so it is checked and not sent.
 */
function segment(operation: 'updateSession' | 'finishSession', args: IArguments): Promise<HuksReturnResult> | void {
  const [handle, options, third] = args as unknown as [unknown, unknown, unknown];
  const body = { handle: checkHandle(handle), options: optionsToJson(checkOptions(options)) };
  let callback: AsyncCallback<HuksReturnResult> | undefined;
  if (typeof third === 'function') callback = third as AsyncCallback<HuksReturnResult>;
  else {
    checkToken(third);
    callback = callbackOf<HuksReturnResult>(args, 3);
  }
  const answer = send(operation, body).then((a): HuksReturnResult => (a.outData === undefined ? {} : { outData: bytesFromJson(a.outData, 'outData') }));
  return settle(answer, callback);
}

export function updateSession(handle: number, options: HuksOptions, callback: AsyncCallback<HuksReturnResult>): void;
export function updateSession(handle: number, options: HuksOptions, token: Uint8Array, callback: AsyncCallback<HuksReturnResult>): void;
export function updateSession(handle: number, options: HuksOptions, token?: Uint8Array): Promise<HuksReturnResult>;
export function updateSession(): Promise<HuksReturnResult> | void {
  return segment('updateSession', arguments);
}

export function finishSession(handle: number, options: HuksOptions, callback: AsyncCallback<HuksReturnResult>): void;
export function finishSession(handle: number, options: HuksOptions, token: Uint8Array, callback: AsyncCallback<HuksReturnResult>): void;
export function finishSession(handle: number, options: HuksOptions, token?: Uint8Array): Promise<HuksReturnResult>;
export function finishSession(): Promise<HuksReturnResult> | void {
  return segment('finishSession', arguments);
}

export function abortSession(handle: number, options: HuksOptions, callback: AsyncCallback<void>): void;
export function abortSession(handle: number, options: HuksOptions): Promise<void>;
export function abortSession(handle: number, options: HuksOptions, callback?: AsyncCallback<void>): Promise<void> | void {
  const body = { handle: checkHandle(handle), options: optionsToJson(checkOptions(options)) };
  if (arguments.length > 2) checkCallback(callback);
  return settle(send('abortSession', body).then(nothing), callback);
}

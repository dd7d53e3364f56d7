import * as pkcs11 from 'pkcs11js';
import { ServiceUnavailableError } from '../common/domain-errors';

/**
 * CKR_* results mapped to typed errors, after graphene-pk11's core/error.ts: callers branch
 * on the class, never on numbers. Messages carry the CKR name and the Cryptoki function,
 * never attribute values or data.
 */
export class HsmError extends Error {
  constructor(message: string, readonly ckr?: number, readonly method?: string) {
    super(message);
    this.name = new.target.name;
  }
}
/** The token or its module went away; the Token recovers in the background. */
export class TokenUnavailableError extends ServiceUnavailableError {
  constructor(reason: string) {
    super(`the HSM token is unavailable (${reason}); retry shortly`);
  }
}
/** A PIN was refused. Never retried: a retry could lock the token. */
export class HsmLoginError extends HsmError {}
/** A cached object handle no longer names an object; look it up again. */
export class HsmHandleInvalidError extends HsmError {}
/** No object with the requested CKA_ID exists on the token. */
export class HsmObjectNotFoundError extends HsmError {}
/** The token rejected input data: a wrong GCM tag or AAD, a bad length. */
export class HsmDataInvalidError extends HsmError {
  /** The data's length does not fit the mechanism (a block mode without padding), rather than its content. */
  get badLength(): boolean {
    return this.ckr === pkcs11.CKR_DATA_LEN_RANGE || this.ckr === pkcs11.CKR_ENCRYPTED_DATA_LEN_RANGE;
  }
}
/** The token does not implement the mechanism or its parameters. */
export class HsmMechanismError extends HsmError {}

const names = new Map<number, string>();
for (const [k, v] of Object.entries(pkcs11)) if (k.startsWith('CKR_') && typeof v === 'number' && !names.has(v)) names.set(v, k);
export const ckrName = (code: number): string => names.get(code) ?? `CKR_0x${code.toString(16)}`;

/** Codes after which the module is reloaded (the device or our state in it is gone). */
export const RECOVERABLE = new Set<number>([
  pkcs11.CKR_DEVICE_ERROR,
  pkcs11.CKR_DEVICE_REMOVED,
  pkcs11.CKR_TOKEN_NOT_PRESENT,
  pkcs11.CKR_SESSION_HANDLE_INVALID,
  pkcs11.CKR_SESSION_CLOSED,
  pkcs11.CKR_CRYPTOKI_NOT_INITIALIZED,
  pkcs11.CKR_TOKEN_NOT_RECOGNIZED,
  pkcs11.CKR_USER_NOT_LOGGED_IN,
]);
const LOGIN = new Set<number>([pkcs11.CKR_PIN_INCORRECT, pkcs11.CKR_PIN_LOCKED, pkcs11.CKR_PIN_EXPIRED, pkcs11.CKR_PIN_INVALID, pkcs11.CKR_PIN_LEN_RANGE]);
const HANDLE = new Set<number>([pkcs11.CKR_OBJECT_HANDLE_INVALID, pkcs11.CKR_KEY_HANDLE_INVALID]);
const DATA = new Set<number>([
  pkcs11.CKR_ENCRYPTED_DATA_INVALID,
  pkcs11.CKR_ENCRYPTED_DATA_LEN_RANGE,
  pkcs11.CKR_DATA_INVALID,
  pkcs11.CKR_DATA_LEN_RANGE,
  pkcs11.CKR_WRAPPED_KEY_INVALID,
  pkcs11.CKR_WRAPPED_KEY_LEN_RANGE,
]);
const MECH = new Set<number>([pkcs11.CKR_MECHANISM_INVALID, pkcs11.CKR_MECHANISM_PARAM_INVALID, pkcs11.CKR_ARGUMENTS_BAD, pkcs11.CKR_FUNCTION_NOT_SUPPORTED]);

export function ckrOf(err: unknown): number | undefined {
  if (err instanceof pkcs11.Pkcs11Error) return err.code;
  // pkcs11js 2.1 leaves C_CreateObject, C_CopyObject and C_SetAttributeValue unwrapped: their
  // failures are plain Errors whose message is the native "CKR_NAME:code".
  const unwrapped = err instanceof Error ? /^CKR_[A-Z0-9_]+:(\d+)$/.exec(err.message) : null;
  return unwrapped ? Number(unwrapped[1]) : undefined;
}

export function isRecoverable(err: unknown): boolean {
  const code = ckrOf(err);
  if (code !== undefined) return RECOVERABLE.has(code);
  // A native failure that is not a CKR (the module vanished under us) also means reload.
  return err instanceof pkcs11.NativeError;
}

/** Translates a pkcs11js exception; anything else passes through unchanged. */
export function translate(err: unknown): Error {
  if (err instanceof HsmError || err instanceof TokenUnavailableError) return err;
  const code = ckrOf(err);
  if (code === undefined) return err instanceof Error ? err : new Error(String(err));
  // The unwrapped methods' Errors do not say which function failed.
  const method = err instanceof pkcs11.Pkcs11Error ? err.method : undefined;
  const msg = method ? `${method}: ${ckrName(code)}` : ckrName(code);
  if (RECOVERABLE.has(code)) return new TokenUnavailableError(ckrName(code));
  if (LOGIN.has(code)) return new HsmLoginError(msg, code, method);
  if (HANDLE.has(code)) return new HsmHandleInvalidError(msg, code, method);
  if (DATA.has(code)) return new HsmDataInvalidError(msg, code, method);
  if (MECH.has(code)) return new HsmMechanismError(msg, code, method);
  return new HsmError(msg, code, method);
}

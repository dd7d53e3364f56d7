import { HuksExceptionErrCode } from './enums';

/** The seed's message for each code, as `err.message` carries it unless the service says more. */
const MESSAGES: Readonly<Record<number, string>> = {
  201: 'check permission failed.',
  401: 'argument is invalid.',
  801: 'api is not supported.',
  12000001: 'algorithm mode is not supported.',
  12000002: 'algorithm param is missing.',
  12000003: 'algorithm param is invalid.',
  12000004: 'operating file failed.',
  12000005: 'IPC communication failed.',
  12000006: 'error occured in crypto engine.',
  12000007: 'this credential is already invalidated permanently.',
  12000008: 'verify authtoken failed.',
  12000009: 'authtoken is already timeout.',
  12000010: 'the number of sessions has reached limit.',
  12000011: 'queried entity does not exist.',
  12000012: 'external error.',
  12000013: 'queried credential does not exist.',
  12000014: 'memory is insufficient.',
  12000015: 'call service failed.',
};

/**
 * The error every function reports (as `@ohos.base` BusinessError): a numeric `code` from
 * HuksExceptionErrCode. `reason` is the service's finer cause word and `requestId` its request
 * id, when the service answered.
 */
export class BusinessError extends Error {
  override readonly name = 'BusinessError';
  readonly code: number;
  readonly reason?: string;
  readonly requestId?: string;

  constructor(code: number, detail?: string, extra: { reason?: string; requestId?: string } = {}) {
    const base = MESSAGES[code] ?? 'error.';
    super(detail ? `${base} ${detail}` : base);
    this.code = code;
    if (extra.reason !== undefined) this.reason = extra.reason;
    if (extra.requestId !== undefined) this.requestId = extra.requestId;
  }
}

/** A 401: the call's own arguments are wrong; thrown before any request, as HUKS throws it. */
export const invalidArgument = (detail: string): BusinessError => new BusinessError(HuksExceptionErrCode.HUKS_ERR_CODE_ILLEGAL_ARGUMENT, detail);

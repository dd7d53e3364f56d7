/** An error answered by the HUKS face: the seed's numeric code, the HTTP status, and a stable reason word (docs/huks-protocol.md, Errors). */
export class HuksError extends Error {
  constructor(
    readonly code: number,
    readonly status: number,
    readonly reason: string,
    message: string,
  ) {
    super(message);
    this.name = 'HuksError';
  }
}

/** Every answer the face gives: reason -> [code, HTTP status]. */
const ANSWERS = {
  SignatureMismatch: [201, 403],
  SignatureReplayed: [201, 403],
  Denied: [201, 403],
  InvalidArgument: [401, 400],
  TooLarge: [401, 413],
  UnknownOperation: [801, 404],
  Unsupported: [12000001, 400],
  MissingParameter: [12000002, 400],
  InvalidParameter: [12000003, 400],
  CryptoFailed: [12000006, 500],
  DecryptFailed: [12000006, 400],
  VerifyFailed: [12000008, 400],
  SignatureExpired: [12000009, 403],
  SessionLimit: [12000010, 429],
  KeyNotFound: [12000011, 404],
  SessionNotFound: [12000011, 404],
  WrongInstance: [12000011, 404],
  KeyState: [12000012, 409],
  AliasExists: [12000012, 409],
  InsecureTransport: [12000012, 409],
  NoCredential: [12000013, 401],
  BufferLimit: [12000014, 413],
  QuotaExceeded: [12000014, 429],
  Throttled: [12000014, 429],
  Unavailable: [12000015, 503],
} as const satisfies Record<string, readonly [number, number]>;

export type HuksReason = keyof typeof ANSWERS;

export function huksError(reason: HuksReason, message: string): HuksError {
  const [code, status] = ANSWERS[reason];
  return new HuksError(code, status, reason, message);
}

/** An error as this API answers it: the HTTP status, the KMS.xxxx code and a message. */
export class HuaweiError extends Error {
  constructor(readonly status: number, readonly code: string, message: string) {
    super(message);
    this.name = 'HuaweiError';
  }
}

/**
 * The codes this face answers, with the HTTP status appendix A.2 gives each. Throttling has no
 * code there: it is the API gateway's, which stands in front of the vendor's service.
 */
export const CODES = {
  badUrl: [400, 'KMS.0201'],
  badJson: [400, 'KMS.0202'],
  tooLong: [400, 'KMS.0203'],
  missing: [400, 'KMS.0204'],
  badKeyId: [400, 'KMS.0205'],
  badSequence: [400, 'KMS.0206'],
  badContext: [400, 'KMS.0208'],
  keyDisabled: [400, 'KMS.0209'],
  keyPendingDeletion: [400, 'KMS.0210'],
  defaultKey: [400, 'KMS.0211'],
  invalid: [400, 'KMS.0308'],
  notExternal: [400, 'KMS.0309'],
  notPendingImport: [400, 'KMS.0310'],
  materialDecrypt: [400, 'KMS.0311'],
  externalNoRotation: [400, 'KMS.0312'],
  emptyTagList: [400, 'KMS.0401'],
  badMatchValue: [400, 'KMS.0402'],
  badMatchKey: [400, 'KMS.0403'],
  badAction: [400, 'KMS.0404'],
  badTagValue: [400, 'KMS.0405'],
  badTagKey: [400, 'KMS.0406'],
  badTagListSize: [400, 'KMS.0407'],
  tooManyTags: [400, 'KMS.0409'],
  badTagValueLength: [400, 'KMS.0410'],
  badTagKeyLength: [400, 'KMS.0411'],
  badTagList: [400, 'KMS.0412'],
  tooManyTagValues: [400, 'KMS.0413'],
  badMatches: [400, 'KMS.0415'],
  badOffset: [400, 'KMS.0417'],
  badAlias: [400, 'KMS.1101'],
  badDescription: [400, 'KMS.1103'],
  aliasTaken: [400, 'KMS.1104'],
  tooManyKeys: [400, 'KMS.1105'],
  notDisabled: [400, 'KMS.1201'],
  notEnabled: [400, 'KMS.1301'],
  badPendingDays: [400, 'KMS.1401'],
  alreadyPendingDeletion: [400, 'KMS.1402'],
  notPendingDeletion: [400, 'KMS.1501'],
  badLimit: [400, 'KMS.1601'],
  badMarker: [400, 'KMS.1602'],
  badRandomLength: [400, 'KMS.1801'],
  badDataKeyLength: [400, 'KMS.1901'],
  badPlainText: [400, 'KMS.2101'],
  badPlainLength: [400, 'KMS.2102'],
  plainDigestMismatch: [400, 'KMS.2103'],
  badCipherText: [400, 'KMS.2201'],
  badCipherLength: [400, 'KMS.2202'],
  importTokenExpired: [400, 'KMS.2601'],
  badExpiration: [400, 'KMS.2602'],
  importTokenOtherKey: [400, 'KMS.2603'],
  badImportToken: [400, 'KMS.2605'],
  materialMismatch: [400, 'KMS.2606'],
  materialNotDeletable: [400, 'KMS.2701'],
  noCredentials: [403, 'KMS.0301'],
  badCredentials: [403, 'KMS.0302'],
  expired: [403, 'KMS.0303'],
  badProject: [403, 'KMS.0305'],
  denied: [403, 'KMS.0306'],
  internal: [500, 'KMS.0101'],
  unavailable: [500, 'KMS.0102'],
  throttled: [429, 'APIGW.0308'],
} as const satisfies Record<string, readonly [number, string]>;

export type CodeName = keyof typeof CODES;

export const huaweiError = (name: CodeName, message: string): HuaweiError => new HuaweiError(CODES[name][0], CODES[name][1], message);

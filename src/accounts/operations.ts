/**
 * The core's operations, by name (case-sensitive): what faces map their calls to, what rate
 * limits, the audit trail and policies name. A policy may name only these (or wildcards
 * matching at least one), so this is also the policy vocabulary; each face refuses to start if
 * its table maps a call to an operation not listed here.
 */
export const OPERATIONS: readonly string[] = [
  'ArchiveKey',
  'AsymmetricRsaDecrypt',
  'AsymmetricSm2Decrypt',
  'AsymmetricSm2Encrypt',
  'BatchKeyTags',
  'BindCloudResource',
  'CancelKeyArchive',
  'CancelKeyDeletion',
  'CreateKey',
  'CreateKeyTag',
  'Decrypt',
  'DeleteImportedKeyMaterial',
  'DeleteKeyTag',
  'DescribeKey',
  'DescribeKeys',
  'DescribeTSMLicenses',
  'DisableKey',
  'DisableKeyRotation',
  'DisableKeys',
  'EnableKey',
  'EnableKeyRotation',
  'EnableKeys',
  'Encrypt',
  'GenerateAsymmetricKeyPair',
  'GenerateDataKey',
  'GenerateMac',
  'GenerateRandom',
  'GetKeyRotationStatus',
  'GetParametersForImport',
  'GetPublicKey',
  'GetRegions',
  'GetServiceStatus',
  'ImportKeyMaterial',
  'ListAlgorithms',
  'ListAuditRecords',
  'ListKeyBindings',
  'ListKeyDetail',
  'ListKeyTags',
  'ListKeyVersions',
  'ListKeys',
  'ListKeysByTags',
  'ListTags',
  'ReEncrypt',
  'RotateKey',
  'ScheduleKeyDeletion',
  'SignByAsymmetricKey',
  'UnbindCloudResource',
  'UpdateAlias',
  'UpdateKeyDescription',
  'VerifyByAsymmetricKey',
];

/** Throws unless every operation a face's table names is one of OPERATIONS. */
export function assertKnownOperations(face: string, names: Iterable<string>): void {
  const known = new Set(OPERATIONS);
  const unknown = [...new Set(names)].filter((n) => !known.has(n));
  if (unknown.length) throw new Error(`the ${face} face maps calls to operations the core does not know: ${unknown.join(', ')}`);
}

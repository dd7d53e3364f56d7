/** KeyMetadata as the 2019-01-18 API answers it. */
export interface KeyMetadata {
  KeyId: string;
  Alias: string;
  CreateTime: number;
  Description: string;
  KeyState: string;
  KeyUsage: string;
  Type: number;
  CreatorUin: number;
  KeyRotationEnabled: boolean;
  Owner: string;
  NextRotateTime: number;
  DeletionDate: number;
  Origin: string;
  ValidTo: number;
  ResourceId: string;
  RotateDays?: number;
  LastRotateTime?: number;
}

export const KEY_USAGES = [
  'ENCRYPT_DECRYPT',
  'ASYMMETRIC_DECRYPT_RSA_2048',
  'ASYMMETRIC_SIGN_VERIFY_RSA_2048',
  'ASYMMETRIC_SIGN_VERIFY_ECC',
  'ASYMMETRIC_DECRYPT_SM2',
  'ASYMMETRIC_SIGN_VERIFY_SM2',
] as const;

export const isSymmetric = (k: KeyMetadata): boolean => k.KeyUsage === 'ENCRYPT_DECRYPT';

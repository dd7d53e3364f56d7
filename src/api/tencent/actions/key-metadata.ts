import { KeyEntity } from '../../../keys/key.entity';
import { originName, typeOfStandard, usageName } from '../key-rules';

/** KeyMetadata of the 2019-01-18 API, every documented field with its true value. */
export function keyMetadata(k: KeyEntity): Record<string, unknown> {
  return {
    KeyId: k.keyId,
    Alias: k.alias,
    CreateTime: k.createdAt,
    Description: k.description,
    KeyState: k.keyState,
    KeyUsage: usageName(k.keyUsage),
    Type: typeOfStandard(k.standard),
    CreatorUin: Number(k.creatorUin),
    KeyRotationEnabled: k.rotationEnabled,
    Owner: k.owner,
    NextRotateTime: k.rotationEnabled ? k.nextRotateTime : 0,
    DeletionDate: k.deletionDate,
    Origin: originName(k.origin),
    ValidTo: k.validTo,
    ResourceId: `creatorUin/${k.creatorUin}/${k.keyId}`,
    RotateDays: k.rotateDays,
    LastRotateTime: k.lastRotateTime,
  };
}

import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { KeyVersionEntity } from '../keys/key-version.entity';
import { KeyEntity } from '../keys/key.entity';
import { KeyRepository, ReadFields } from '../keys/key.repository';

export type RotationFields = Pick<KeyEntity, 'rotationEnabled' | 'rotateDays' | 'nextRotateTime'>;

/** What a rotation is conditional on: of two rotations from the same version and schedule, exactly one wins. */
const ROTATION_READ: ReadFields = ['keyState', 'currentVersion', 'rotationEnabled', 'rotateDays', 'nextRotateTime'];

/** The rows rotation adds (key versions); the key's row itself is written through its owner, KeyRepository. */
@Injectable()
export class RotationRepository {
  constructor(private readonly keys: KeyRepository) {}

  /**
   * Makes `version` the key's current version, if the key's state, current version and
   * schedule are still as the caller read them. The version row goes in with it.
   */
  async advance(m: EntityManager, key: KeyEntity, version: KeyVersionEntity, patch: Pick<KeyEntity, 'lastRotateTime' | 'nextRotateTime'>): Promise<boolean> {
    if (!(await this.keys.compareAndSet(m, key, ROTATION_READ, { ...patch, currentVersion: version.version, updatedAt: version.createdAt }))) return false;
    await m.insert(KeyVersionEntity, version);
    return true;
  }
}

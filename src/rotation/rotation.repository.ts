import { Inject, Injectable } from '@nestjs/common';
import { DataSource, EntityManager, LessThanOrEqual } from 'typeorm';
import { KeyVersionEntity } from '../keys/key-version.entity';
import { KeyEntity } from '../keys/key.entity';

export type RotationFields = Pick<KeyEntity, 'rotationEnabled' | 'rotateDays' | 'nextRotateTime'>;

/** Every SQL statement of key rotation. */
@Injectable()
export class RotationRepository {
  constructor(@Inject(DataSource) private readonly ds: DataSource) {}

  /** The key's row itself, not the cache: management writes are conditional on what they read. */
  find(keyId: string): Promise<KeyEntity | null> {
    return this.ds.getRepository(KeyEntity).findOneBy({ keyId });
  }

  /** Enabled keys whose rotation is on and due, oldest due first. Disabled and archived keys wait until they are enabled again. */
  due(now: number, limit: number): Promise<KeyEntity[]> {
    return this.ds.getRepository(KeyEntity).find({
      where: { keyState: 'Enabled', rotationEnabled: true, nextRotateTime: LessThanOrEqual(now) },
      take: limit,
      order: { nextRotateTime: 'ASC' },
    });
  }

  /** Sets the rotation schedule if the key is still in the state the caller read. */
  async setSchedule(m: EntityManager, key: KeyEntity, patch: RotationFields & { updatedAt: number }): Promise<boolean> {
    const r = await m.update(KeyEntity, { keyId: key.keyId, keyState: key.keyState }, patch);
    return (r.affected ?? 0) > 0;
  }

  /**
   * Makes `version` the key's current version, if the key's state, current version and
   * schedule are still as the caller read them: of two rotations from the same version,
   * exactly one wins. The version row goes in with it.
   */
  async advance(m: EntityManager, key: KeyEntity, version: KeyVersionEntity, patch: Pick<KeyEntity, 'lastRotateTime' | 'nextRotateTime'>): Promise<boolean> {
    const r = await m.update(
      KeyEntity,
      {
        keyId: key.keyId,
        keyState: key.keyState,
        currentVersion: key.currentVersion,
        rotationEnabled: key.rotationEnabled,
        rotateDays: key.rotateDays,
        nextRotateTime: key.nextRotateTime,
      },
      { ...patch, currentVersion: version.version, updatedAt: version.createdAt },
    );
    if (!r.affected) return false;
    await m.insert(KeyVersionEntity, version);
    return true;
  }

  transaction<T>(fn: (m: EntityManager) => Promise<T>): Promise<T> {
    return this.ds.transaction(fn);
  }
}

import { secretKindOf } from '../keys/key-params';
import { Inject, Injectable } from '@nestjs/common';
import * as crypto from 'node:crypto';
import { Principal } from '../accounts/principal';
import { Clock } from '../common/clock';
import { ExternalKeyCannotRotateError, KeyUsageMismatchError, InvalidParameterError, KeyVersionLimitError } from '../common/domain-errors';
import { Log } from '../common/logger';
import { KMS_CONFIG, KmsConfig } from '../config/config';
import { KeyStore, MaterialRef } from '../hsm/key-store';
import { KeyOperation, assertAllowed } from '../keys/key-states';
import { keyKind } from '../keys/key-params';
import { KeyVersionEntity } from '../keys/key-version.entity';
import { KeyEntity } from '../keys/key.entity';
import { KeyRepository, LOST, STATE } from '../keys/key.repository';
import { KeysService } from '../keys/keys.service';
import { MaterialJournal } from '../keys/material-journal';
import { TouchedKeys } from '../audit/audit-context';
import { RotationFields, RotationRepository } from './rotation.repository';

export const DAY = 86_400;
export const DEFAULT_ROTATE_DAYS = 365;

/** What a rotation records besides the new version. */
export type RotationTimes = Pick<KeyEntity, 'lastRotateTime' | 'nextRotateTime'>;

/**
 * Key rotation: the schedule (EnableKeyRotation, DisableKeyRotation), the status, and
 * rotation itself, which adds a version of new AES-256 material in the token and makes it
 * the one Encrypt uses. Older versions stay, so every ciphertext still decrypts.
 */
@Injectable()
export class RotationService {
  constructor(
    @Inject(KMS_CONFIG) private readonly cfg: KmsConfig,
    private readonly keys: KeysService,
    private readonly repo: RotationRepository,
    private readonly rows: KeyRepository,
    @Inject(KeyStore) private readonly store: KeyStore,
    private readonly clock: Clock,
    private readonly journal: MaterialJournal,
  ) {}

  /** Enabling again with the same period keeps the date; a new period counts from now. */
  enable(p: Principal, keyId: string, rotateDays = DEFAULT_ROTATE_DAYS): Promise<void> {
    if (!Number.isInteger(rotateDays) || rotateDays < 7 || rotateDays > 365) throw new InvalidParameterError('rotationPeriodDays', (n) => `${n('rotationPeriodDays')} must be 7..365`, 'value');
    return this.schedule(p, keyId, 'EnableRotation', (k, now) =>
      k.rotationEnabled && k.rotateDays === rotateDays ? null : { rotationEnabled: true, rotateDays, nextRotateTime: now + rotateDays * DAY },
    );
  }

  disable(p: Principal, keyId: string): Promise<void> {
    return this.schedule(p, keyId, 'DisableRotation', (k) => (k.rotationEnabled ? { rotationEnabled: false, rotateDays: 0, nextRotateTime: 0 } : null));
  }

  async enabled(p: Principal, keyId: string): Promise<boolean> {
    return (await this.keys.get(p, keyId)).key.rotationEnabled;
  }

  /**
   * RotateKey: rotates at once and answers the new version's id. With rotation enabled the
   * next scheduled rotation moves to a full period from now, so no version outlives it.
   */
  async rotateNow(p: Principal, keyId: string): Promise<string> {
    await this.keys.get(p, keyId);
    return this.rows.write(keyId, 'Rotate', async (key) => {
      checkRotatable(key, 'Rotate');
      const now = this.clock.nowSeconds();
      return (await this.rotate(key, { lastRotateTime: now, nextRotateTime: key.rotationEnabled ? now + key.rotateDays * DAY : 0 }, 'manual', p.touched)) ?? LOST;
    });
  }

  /**
   * The job's rotation of a due key. A key at the version limit is not rotated: its next
   * rotation moves a full period on (logged), so the job does not try it again every run.
   */
  async rotateDue(key: KeyEntity, now: number, touched?: TouchedKeys): Promise<void> {
    const nextRotateTime = now + key.rotateDays * DAY;
    if (key.currentVersion < this.cfg.maxKeyVersions) {
      await this.rotate(key, { lastRotateTime: now, nextRotateTime }, 'scheduled', touched);
      return;
    }
    const moved = await this.rows.transaction((m) => this.rows.compareAndSet(m, key, STATE, { nextRotateTime, updatedAt: now }));
    if (moved) Log.warn('scheduled cmk rotation skipped: the key has as many versions as KMS_MAX_KEY_VERSIONS allows', { keyId: key.keyId, versions: key.currentVersion, nextRotateTime });
  }

  /**
   * Generates the next version in the token and makes it current if the key is still as
   * read; otherwise destroys the new material and answers null. Returns the version id.
   * Refused, before the token is used, for a key that has KMS_MAX_KEY_VERSIONS versions
   * (the write is conditional on the version read, so concurrent rotations cannot pass it).
   */
  async rotate(key: KeyEntity, times: RotationTimes, trigger: 'manual' | 'scheduled', touched?: TouchedKeys): Promise<string | null> {
    if (key.currentVersion >= this.cfg.maxKeyVersions) throw new KeyVersionLimitError(`CMK ${key.keyId} has ${key.currentVersion} versions, the most this service allows (KMS_MAX_KEY_VERSIONS=${this.cfg.maxKeyVersions})`);
    const version: KeyVersionEntity = { id: crypto.randomUUID(), keyId: key.keyId, version: key.currentVersion + 1, wrapped: null, publicKey: null, createdAt: times.lastRotateTime };
    touched?.note(key.keyId, version.version);
    await this.journal.begin(version.id);
    const material: MaterialRef = { id: version.id, region: key.region };
    let won: boolean;
    try {
      const created = await this.store.createSecret(material, `cmk ${key.keyId} v${version.version}`, secretKindOf(key.keySpec));
      version.wrapped = created.wrapped?.toString('base64') ?? null;
      material.wrapped = created.wrapped;
      won = await this.rows.transaction(async (m) => {
        const advanced = await this.repo.advance(m, key, version, times);
        if (advanced) await this.journal.settle(m, version.id);
        return advanced;
      });
    } catch (e) {
      await this.store.destroy(material).catch(() => undefined);
      await this.journal.drop(version.id);
      throw e;
    }
    if (!won) {
      await this.store.destroy(material);
      await this.journal.drop(version.id);
      Log.info('cmk rotation lost to a concurrent change; new material destroyed', { keyId: key.keyId, version: version.version, trigger });
      return null;
    }
    Log.info('cmk rotated', { keyId: key.keyId, version: version.version, versionId: version.id, trigger });
    return version.id;
  }

  private async schedule(p: Principal, keyId: string, op: KeyOperation, patch: (k: KeyEntity, now: number) => RotationFields | null): Promise<void> {
    await this.keys.get(p, keyId);
    await this.rows.write(keyId, op, async (key) => {
      checkRotatable(key, op);
      const now = this.clock.nowSeconds();
      const next = patch(key, now);
      if (!next) return;
      return (await this.rows.transaction((m) => this.rows.compareAndSet(m, key, STATE, { ...next, updatedAt: now }))) ? undefined : LOST;
    });
  }
}

/** Imported material and key pairs never rotate (a schedule can still be turned off), and the key's state must allow `op`. */
function checkRotatable(key: KeyEntity, op: KeyOperation): void {
  if (op !== 'DisableRotation' && keyKind(key.keyUsage).purpose !== 'encrypt-decrypt') throw new KeyUsageMismatchError(key.keyUsage, 'rotation');
  if (op !== 'DisableRotation' && key.origin === 'imported') throw new ExternalKeyCannotRotateError('the CMK holds imported material, which cannot be rotated');
  assertAllowed(key.keyState, op);
}

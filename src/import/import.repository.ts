import { Inject, Injectable } from '@nestjs/common';
import { Between, DataSource, EntityManager, IsNull, LessThanOrEqual, MoreThan } from 'typeorm';
import { KeyBindingEntity } from '../keys/key-binding.entity';
import { KeyVersionEntity } from '../keys/key-version.entity';
import { KeyEntity } from '../keys/key.entity';
import { ImportParametersEntity } from './import-parameters.entity';

/** What a material write is conditional on: the key's row as the writer read it. */
type ReadKey = Pick<KeyEntity, 'keyId' | 'keyState' | 'validTo' | 'materialCheck' | 'currentVersion'>;

const asRead = (k: ReadKey) => ({ keyId: k.keyId, keyState: k.keyState, validTo: k.validTo, materialCheck: k.materialCheck ?? IsNull(), currentVersion: k.currentVersion });

/** Every SQL statement of key material import. */
@Injectable()
export class ImportRepository {
  constructor(@Inject(DataSource) private readonly ds: DataSource) {}

  /** The key's row itself, not the cache: material writes are conditional on what they read. */
  key(keyId: string): Promise<KeyEntity | null> {
    return this.ds.getRepository(KeyEntity).findOneBy({ keyId });
  }

  isBound(keyId: string): Promise<boolean> {
    return this.ds.getRepository(KeyBindingEntity).existsBy({ keyId });
  }

  parameters(keyId: string): Promise<ImportParametersEntity | null> {
    return this.ds.getRepository(ImportParametersEntity).findOneBy({ keyId });
  }

  hasParameters(keyId: string, wrappingKeyId: string): Promise<boolean> {
    return this.ds.getRepository(ImportParametersEntity).existsBy({ keyId, wrappingKeyId });
  }

  /**
   * Makes `row` the key's one set of parameters and returns the wrapping key id it replaced.
   * Each write is conditional on the row read before it, so of two concurrent calls each
   * learns exactly which pair it displaced, and no pair is left without its row.
   */
  putParameters(row: ImportParametersEntity): Promise<string | null> {
    return this.ds.transaction(async (m) => {
      const repo = m.getRepository(ImportParametersEntity);
      for (;;) {
        const old = await repo.findOneBy({ keyId: row.keyId });
        if (old) {
          const r = await repo.update({ keyId: row.keyId, wrappingKeyId: old.wrappingKeyId }, row);
          if (r.affected) return old.wrappingKeyId;
        } else {
          await m.createQueryBuilder().insert().into(ImportParametersEntity).values(row).orIgnore().execute();
          if (await repo.existsBy({ keyId: row.keyId, wrappingKeyId: row.wrappingKeyId })) return null;
        }
      }
    });
  }

  /**
   * Counts one more import attempt with these parameters and answers its number (1, 2, ...),
   * or null when `max` were counted already or the parameters were replaced or removed.
   * A compare-and-set on the count read, so concurrent attempts get distinct numbers.
   */
  claimAttempt(p: ImportParametersEntity, max: number): Promise<number | null> {
    return this.ds.transaction(async (m) => {
      const repo = m.getRepository(ImportParametersEntity);
      for (;;) {
        const row = await repo.findOneBy({ keyId: p.keyId, wrappingKeyId: p.wrappingKeyId });
        if (!row || row.attempts >= max) return null;
        const r = await repo.update({ keyId: p.keyId, wrappingKeyId: p.wrappingKeyId, attempts: row.attempts }, { attempts: row.attempts + 1 });
        if (r.affected) return row.attempts + 1;
      }
    });
  }

  /** Gives back an attempt that failed for a reason other than the material (the token away, a concurrent change). */
  async releaseAttempt(p: ImportParametersEntity): Promise<void> {
    await this.ds.transaction((m) => m.getRepository(ImportParametersEntity).decrement({ keyId: p.keyId, wrappingKeyId: p.wrappingKeyId, attempts: MoreThan(0) }, 'attempts', 1));
  }

  expiredParameters(now: number, limit: number): Promise<ImportParametersEntity[]> {
    return this.ds.getRepository(ImportParametersEntity).find({ where: { expiresAt: LessThanOrEqual(now) }, take: limit, order: { expiresAt: 'ASC' } });
  }

  /** Removes these parameters unless a newer call replaced them; true for the one caller that did. */
  async deleteParameters(p: ImportParametersEntity): Promise<boolean> {
    const r = await this.ds.transaction((m) => m.delete(ImportParametersEntity, { keyId: p.keyId, wrappingKeyId: p.wrappingKeyId }));
    return (r.affected ?? 0) > 0;
  }

  /** Removes the parameters an import used, in its transaction; false if they were used or replaced meanwhile. */
  async consumeParameters(m: EntityManager, p: ImportParametersEntity): Promise<boolean> {
    const r = await m.delete(ImportParametersEntity, { keyId: p.keyId, wrappingKeyId: p.wrappingKeyId });
    return (r.affected ?? 0) > 0;
  }

  versions(keyId: string): Promise<KeyVersionEntity[]> {
    return this.ds.getRepository(KeyVersionEntity).findBy({ keyId });
  }

  /** PendingImport -> Enabled with `version` as version 1, if the key is as the caller read it. */
  async activate(m: EntityManager, key: ReadKey, version: KeyVersionEntity, patch: Pick<KeyEntity, 'validTo' | 'materialCheck'>): Promise<boolean> {
    const r = await m.update(KeyEntity, asRead(key), { ...patch, keyState: 'Enabled', currentVersion: version.version, updatedAt: version.createdAt });
    if (!r.affected) return false;
    await m.insert(KeyVersionEntity, version);
    return true;
  }

  /** A new ValidTo for material the key still has, if the key is as the caller read it. */
  async renew(m: EntityManager, key: ReadKey, validTo: number, now: number): Promise<boolean> {
    const r = await m.update(KeyEntity, asRead(key), { validTo, updatedAt: now });
    return (r.affected ?? 0) > 0;
  }

  /**
   * Forgets the key's material, if the key is as the caller read it: no version, no expiry,
   * and PendingImport (a key pending deletion stays so). Returns the versions removed.
   */
  async clearMaterial(m: EntityManager, key: ReadKey, now: number): Promise<KeyVersionEntity[] | null> {
    const keyState = key.keyState === 'PendingDelete' ? 'PendingDelete' : 'PendingImport';
    const r = await m.update(KeyEntity, asRead(key), { keyState, currentVersion: 0, validTo: 0, updatedAt: now });
    if (!r.affected) return null;
    const versions = await m.findBy(KeyVersionEntity, { keyId: key.keyId });
    await m.delete(KeyVersionEntity, { keyId: key.keyId });
    return versions;
  }

  /** Keys holding imported material whose ValidTo has passed. */
  materialExpired(now: number, limit: number): Promise<KeyEntity[]> {
    return this.ds.getRepository(KeyEntity).find({
      where: { origin: 'EXTERNAL', currentVersion: MoreThan(0), validTo: Between(1, now) },
      take: limit,
      order: { validTo: 'ASC' },
    });
  }

  transaction<T>(fn: (m: EntityManager) => Promise<T>): Promise<T> {
    return this.ds.transaction(fn);
  }
}

import { Inject, Injectable } from '@nestjs/common';
import { DataSource, EntityManager, LessThanOrEqual, MoreThan } from 'typeorm';
import { KeyVersionEntity } from '../keys/key-version.entity';
import { KeyEntity } from '../keys/key.entity';
import { KeyRepository, LOST, ReadFields } from '../keys/key.repository';
import { ImportParametersEntity } from './import-parameters.entity';

/** What a material write is conditional on: the key's row as the writer read it. */
const MATERIAL_READ: ReadFields = ['keyState', 'validTo', 'materialCheck', 'currentVersion'];

/**
 * Every SQL statement of key material import about its own rows (import parameters, the
 * versions of imported material); the key's row itself is written through its owner, KeyRepository.
 */
@Injectable()
export class ImportRepository {
  constructor(
    @Inject(DataSource) private readonly ds: DataSource,
    private readonly keys: KeyRepository,
  ) {}

  parameters(keyId: string): Promise<ImportParametersEntity | null> {
    return this.ds.getRepository(ImportParametersEntity).findOneBy({ keyId });
  }

  /** The parameters with this token hash, if any (read only when an import is refused: the column has no index). */
  parametersOfToken(tokenHash: string): Promise<ImportParametersEntity | null> {
    return this.ds.getRepository(ImportParametersEntity).findOneBy({ tokenHash });
  }

  hasParameters(keyId: string, wrappingKeyId: string): Promise<boolean> {
    return this.ds.getRepository(ImportParametersEntity).existsBy({ keyId, wrappingKeyId });
  }

  /**
   * Makes `row` the key's one set of parameters and returns the wrapping key id it replaced.
   * Each write is conditional on the row read before it, so of two concurrent calls each
   * learns exactly which pair it displaced, and no pair is left without its row. A lost write
   * is retried as the key's row writes are (KeyRepository.retry).
   * `written` runs in the same transaction once the row is in (the wrapping key's note is settled there).
   */
  putParameters(row: ImportParametersEntity, written: (m: EntityManager) => Promise<void>): Promise<string | null> {
    return this.ds.transaction(async (m) => {
      const repo = m.getRepository(ImportParametersEntity);
      const replaced = await this.keys.retry('GetImportParameters', async () => {
        const old = await repo.findOneBy({ keyId: row.keyId });
        if (old) {
          const r = await repo.update({ keyId: row.keyId, wrappingKeyId: old.wrappingKeyId }, row);
          return r.affected ? old.wrappingKeyId : LOST;
        }
        await m.createQueryBuilder().insert().into(ImportParametersEntity).values(row).orIgnore().execute();
        return (await repo.existsBy({ keyId: row.keyId, wrappingKeyId: row.wrappingKeyId })) ? null : LOST;
      });
      await written(m);
      return replaced;
    });
  }

  /**
   * Counts one more import attempt with these parameters and answers its number (1, 2, ...),
   * or null when `max` were counted already or the parameters were replaced or removed.
   * A compare-and-set on the count read, so concurrent attempts get distinct numbers.
   */
  claimAttempt(p: ImportParametersEntity, max: number): Promise<number | null> {
    return this.ds.transaction((m) => {
      const repo = m.getRepository(ImportParametersEntity);
      return this.keys.retry('Import', async () => {
        const row = await repo.findOneBy({ keyId: p.keyId, wrappingKeyId: p.wrappingKeyId });
        if (!row || row.attempts >= max) return null;
        const r = await repo.update({ keyId: p.keyId, wrappingKeyId: p.wrappingKeyId, attempts: row.attempts }, { attempts: row.attempts + 1 });
        return r.affected ? row.attempts + 1 : LOST;
      });
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
  async activate(m: EntityManager, key: KeyEntity, version: KeyVersionEntity, patch: Pick<KeyEntity, 'validTo' | 'materialCheck'>): Promise<boolean> {
    if (!(await this.keys.compareAndSet(m, key, MATERIAL_READ, { ...patch, keyState: 'Enabled', currentVersion: version.version, updatedAt: version.createdAt }))) return false;
    await m.insert(KeyVersionEntity, version);
    return true;
  }

  /** A new ValidTo for material the key still has, if the key is as the caller read it. */
  renew(m: EntityManager, key: KeyEntity, validTo: number, now: number): Promise<boolean> {
    return this.keys.compareAndSet(m, key, MATERIAL_READ, { validTo, updatedAt: now });
  }

  /**
   * Forgets the key's material, if the key is as the caller read it: no version, no expiry,
   * and PendingImport (a key pending deletion stays so). Returns the versions removed.
   */
  async clearMaterial(m: EntityManager, key: KeyEntity, now: number): Promise<KeyVersionEntity[] | null> {
    const keyState = key.keyState === 'PendingDelete' ? 'PendingDelete' : 'PendingImport';
    if (!(await this.keys.compareAndSet(m, key, MATERIAL_READ, { keyState, currentVersion: 0, validTo: 0, updatedAt: now }))) return null;
    const versions = await m.findBy(KeyVersionEntity, { keyId: key.keyId });
    await m.delete(KeyVersionEntity, { keyId: key.keyId });
    return versions;
  }

  transaction<T>(fn: (m: EntityManager) => Promise<T>): Promise<T> {
    return this.ds.transaction(fn);
  }
}

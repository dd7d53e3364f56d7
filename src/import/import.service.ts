import { Inject, Injectable } from '@nestjs/common';
import * as crypto from 'node:crypto';
import { Principal } from '../accounts/principal';
import { Clock } from '../common/clock';
import {
  DomainError,
  ImportTokenExpiredError,
  ImportTokenOtherKeyError,
  MaterialDecryptError,
  InvalidParameterError,
  KeyInUseError,
  KeyBusyError,
  MaterialMismatchError,
  NotExternalKeyError,
  UnsupportedWrappingAlgorithmError,
} from '../common/domain-errors';
import { Log } from '../common/logger';
import { KMS_CONFIG, KmsConfig } from '../config/config';
import { ImportedMaterial, KeyStore, WRAPPING_ALGORITHMS, WrappingAlgorithm } from '../hsm/key-store';
import { KeyOperation, assertAllowed } from '../keys/key-states';
import { KeyVersionEntity } from '../keys/key-version.entity';
import { KeyEntity } from '../keys/key.entity';
import { KeyRepository, LOST } from '../keys/key.repository';
import { KeysService } from '../keys/keys.service';
import { MaterialJournal } from '../keys/material-journal';
import { ImportParametersEntity } from './import-parameters.entity';
import { ImportRepository } from './import.repository';

/** As documented: an ImportToken and its public key are valid for 24 hours. */
const PARAMETERS_SECONDS = 86_400;
/** Failed ImportKeyMaterial calls an ImportToken survives; the last one destroys it and its wrapping key. */
const MAX_FAILED_IMPORTS = 5;
/** The largest ValidTo the document allows. */
const MAX_VALID_TO = 2_147_443_200;
const WRAPPING_KEY_SPEC = 'rsa-2048';

const sha256 = (s: string | Buffer): Buffer => crypto.createHash('sha256').update(s).digest();

export interface ImportParameters {
  keyId: string;
  importToken: string;
  /** SubjectPublicKeyInfo DER of the RSA-2048 wrapping key. */
  publicKey: Buffer;
  validTo: number;
}

/** What an import wrote, or tries to: the new version, its material's check value, and whether its object was made. */
interface Outcome {
  version: KeyVersionEntity;
  check: string;
  made: boolean;
  validTo: number;
  now: number;
  params: ImportParametersEntity;
}

export interface ImportInput {
  keyId: string;
  /** The material, encrypted to the wrapping key of `importToken`. */
  wrapped: Buffer;
  importToken: string;
  /** Unix seconds after which the material is deleted; 0: never. */
  validTo: number;
}

/**
 * BYOK: material an owner brings for an imported key. It is encrypted to an RSA key pair made
 * in the token for the purpose, and decrypted by the token straight into the key's
 * non-extractable AES object: the service never holds it. A key keeps the check value of its
 * first material for good, so only the same material can come back after a deletion.
 */
@Injectable()
export class ImportService {
  constructor(
    @Inject(KMS_CONFIG) private readonly cfg: KmsConfig,
    @Inject(KeyStore) private readonly store: KeyStore,
    private readonly keys: KeysService,
    private readonly repo: ImportRepository,
    private readonly rows: KeyRepository,
    private readonly clock: Clock,
    private readonly journal: MaterialJournal,
  ) {}

  /** What the token can unwrap imported material with, measured once per process. */
  wrappingAlgorithms(): Promise<WrappingAlgorithm[]> {
    return this.store.wrappingAlgorithms();
  }

  /** New parameters; the key's previous ones stop working and their key pair is destroyed. */
  async parameters(p: Principal, keyId: string, algorithm: WrappingAlgorithm, keySpec: string): Promise<ImportParameters> {
    if (!WRAPPING_ALGORITHMS.includes(algorithm)) throw new InvalidParameterError('wrappingAlgorithm', `the wrapping algorithm must be one of ${WRAPPING_ALGORITHMS.join(', ')}`);
    if (keySpec !== WRAPPING_KEY_SPEC) throw new InvalidParameterError('wrappingKeySpec', (n) => `${n('wrappingKeySpec')} must be ${WRAPPING_KEY_SPEC}`);
    await this.externalKey(p, keyId, 'GetImportParameters');
    const supported = await this.store.wrappingAlgorithms();
    if (!supported.includes(algorithm)) throw new UnsupportedWrappingAlgorithmError(algorithm, supported);
    const wrappingKeyId = crypto.randomUUID();
    const importToken = crypto.randomBytes(32).toString('base64');
    const now = this.clock.nowSeconds();
    await this.journal.begin(wrappingKeyId);
    let replaced: string | null;
    let row: ImportParametersEntity;
    try {
      const publicKey = await this.store.createWrappingKey({ id: wrappingKeyId }, `kms import ${keyId}`);
      row = {
        keyId,
        tokenHash: sha256(importToken).toString('hex'),
        wrappingAlgorithm: algorithm,
        wrappingKeySpec: keySpec,
        wrappingKeyId,
        publicKey: publicKey.toString('base64'),
        createdAt: now,
        expiresAt: now + PARAMETERS_SECONDS,
        attempts: 0,
      };
      replaced = await this.repo.putParameters(row, (m) => this.journal.settle(m, wrappingKeyId));
    } catch (e) {
      await this.store.destroy({ id: wrappingKeyId }).catch(() => undefined);
      await this.journal.drop(wrappingKeyId);
      throw e;
    }
    if (replaced) await this.store.destroy({ id: replaced });
    return { keyId, importToken, publicKey: Buffer.from(row.publicKey, 'base64'), validTo: row.expiresAt };
  }

  /**
   * First import (PendingImport -> Enabled), or the same material again (a new ValidTo). The
   * ImportToken is used up by a success, and by the MAX_FAILED_IMPORTS-th failure; each
   * attempt is counted before the token is touched, so concurrent calls cannot exceed that.
   * Nothing persistent is made in the token unless the material is right and the key takes it.
   */
  async importMaterial(p: Principal, input: ImportInput): Promise<void> {
    const { keyId, validTo } = input;
    const now = this.clock.nowSeconds();
    if (validTo !== 0 && (validTo <= now || validTo > MAX_VALID_TO)) throw new InvalidParameterError('validTo', (n) => `${n('validTo')} must be 0 (never expires) or a Unix time after now and at most ${MAX_VALID_TO}`);
    const key = await this.externalKey(p, keyId, 'Import');
    // Refused before the token's work; `record` checks again inside the write.
    if (validTo !== 0 && (await this.rows.isBound(keyId))) throw boundExpiry(keyId);
    const params = await this.currentParameters(p, keyId, input.importToken, now);
    const attempt = await this.repo.claimAttempt(params, MAX_FAILED_IMPORTS);
    if (attempt === null) throw expired();
    const bytes = this.cfg.regions.find((r) => r.name === key.region)?.standard === 'GM' ? 16 : 32;
    const version: KeyVersionEntity = { id: crypto.randomUUID(), keyId, version: 1, wrapped: null, publicKey: null, createdAt: now };
    let imported: ImportedMaterial | null = null;
    let activated = false;
    await this.journal.begin(version.id);
    try {
      imported = await this.store.importAes({ id: version.id, region: key.region }, `cmk ${keyId} v1`, bytes, { id: params.wrappingKeyId }, params.wrappingAlgorithm as WrappingAlgorithm, input.wrapped, (checkValue) =>
        this.takes(key, sha256(checkValue).toString('hex')),
      );
      version.wrapped = imported.wrapped?.toString('base64') ?? null;
      activated = await this.record(keyId, { version, check: sha256(imported.checkValue).toString('hex'), made: imported.kept, validTo, now, params });
    } catch (e) {
      await this.attemptFailed(params, attempt, e);
      // A newer GetParametersForImport may have destroyed the wrapping key meanwhile.
      if (!(e instanceof DomainError) && !(await this.repo.hasParameters(keyId, params.wrappingKeyId))) throw expired();
      throw e;
    } finally {
      // The object made for an activation that another writer overtook.
      if (imported?.kept && !activated) await this.store.destroy({ id: version.id, wrapped: imported.wrapped });
      if (!activated) await this.journal.drop(version.id);
    }
    await this.destroyWrappingKey(params);
    Log.info('key material imported', { keyId, uin: key.uin, region: key.region, validTo, again: !activated });
  }

  /** Back to PendingImport; the key's check value stays, so only the same material can come back. */
  async deleteMaterial(p: Principal, keyId: string): Promise<void> {
    const key = await this.externalKey(p, keyId, 'DeleteMaterial');
    // Refused before reaching the token; `dropMaterial` checks again inside the write.
    if (await this.rows.isBound(keyId)) throw new KeyInUseError(`CMK ${keyId} is used by a cloud product; unbind it first`);
    if (key.currentVersion === 0) return;
    // Reach the token before changing anything: while it is away, answer so and keep the material.
    for (const v of await this.repo.versions(keyId)) await this.store.exists({ id: v.id });
    if (!(await this.dropMaterial(key, true))) throw new KeyBusyError('DeleteMaterial');
  }

  /**
   * Removes a key's material: the rows first, in a write conditional on the key being as read
   * (a concurrent re-import or deletion wins), then the token objects. False if it lost. An
   * object the token fails to destroy is unreachable anyway; it is logged and left.
   * `refuseIfBound`: a binding, checked under the row lock, refuses (KeyInUseError); the
   * expiry job needs no check, as it reads a nonzero ValidTo and a bind zeroes it.
   */
  async dropMaterial(key: KeyEntity, refuseIfBound = false): Promise<boolean> {
    const versions = await this.repo.transaction(async (m) => {
      if (refuseIfBound) {
        await this.rows.lock(m, key.keyId);
        if (await this.rows.isBound(key.keyId, m)) throw new KeyInUseError(`CMK ${key.keyId} is used by a cloud product; unbind it first`);
      }
      return this.repo.clearMaterial(m, key, this.clock.nowSeconds());
    });
    if (!versions) return false;
    for (const v of versions) {
      await this.store.destroy({ id: v.id }).catch((e: Error) => Log.warn('the token object of deleted key material was not destroyed', { keyId: key.keyId, object: v.id, error: e.message }));
    }
    return true;
  }

  /**
   * Whether material with this check value is for `key`: a new key's first material, or the
   * same material again; other material is refused. True when the key needs it as an object.
   */
  private takes(key: KeyEntity, check: string): boolean {
    if (key.materialCheck !== null && key.materialCheck !== check) throw new MaterialMismatchError('this is not the key material the CMK was imported with; only the same material can be imported again');
    return key.keyState === 'PendingImport';
  }

  /**
   * Writes the outcome and uses up the ImportToken, in one transaction; true when the new
   * version became the key's material. Judged again on the key as it is now if another writer came first.
   */
  private record(keyId: string, o: Outcome): Promise<boolean> {
    return this.rows.write(keyId, 'Import', async (key) => {
      checkExternal(key, 'Import');
      const activating = this.takes(key, o.check);
      // The material went away meanwhile (DeleteImportedKeyMaterial), and no object was made for it.
      if (activating && !o.made) throw new KeyBusyError('Import');
      return this.repo.transaction(async (m) => {
        // Checked again under the row lock: a bind since the first check must not get an expiry.
        if (o.validTo !== 0) {
          await this.rows.lock(m, keyId);
          if (await this.rows.isBound(keyId, m)) throw boundExpiry(keyId);
        }
        const written = activating ? await this.repo.activate(m, key, o.version, { validTo: o.validTo, materialCheck: o.check }) : await this.repo.renew(m, key, o.validTo, o.now);
        if (!written) return LOST;
        if (activating) await this.journal.settle(m, o.version.id);
        // Another import with the same ImportToken succeeded first, or a newer call replaced it.
        if (!(await this.repo.consumeParameters(m, o.params))) throw expired();
        return activating;
      });
    });
  }

  /**
   * A failed attempt: wrong material counts (the last allowed failure destroys the
   * parameters and their key pair); any other failure is given back.
   */
  private async attemptFailed(params: ImportParametersEntity, attempt: number, e: unknown): Promise<void> {
    if (!(e instanceof MaterialDecryptError || e instanceof MaterialMismatchError)) return this.repo.releaseAttempt(params);
    if (attempt < MAX_FAILED_IMPORTS) return;
    await this.dropParameters(params);
    Log.warn('import parameters destroyed after failed imports', { keyId: params.keyId, failures: MAX_FAILED_IMPORTS });
  }

  /** Removes used-up parameters and destroys their key pair, unless a newer call replaced them (then it destroyed the pair). */
  private async dropParameters(params: ImportParametersEntity): Promise<void> {
    if (await this.repo.deleteParameters(params)) await this.destroyWrappingKey(params);
  }

  /** Once its parameters are gone. A pair the token fails to destroy serves no ImportToken; it is logged and left. */
  private destroyWrappingKey(params: ImportParametersEntity): Promise<void> {
    return this.store.destroy({ id: params.wrappingKeyId }).catch((e: Error) => Log.warn('the wrapping key of used-up import parameters was not destroyed', { keyId: params.keyId, object: params.wrappingKeyId, error: e.message }));
  }

  private async currentParameters(p: Principal, keyId: string, importToken: string, now: number): Promise<ImportParametersEntity> {
    const row = await this.repo.parameters(keyId);
    if (!row || row.expiresAt <= now || !crypto.timingSafeEqual(sha256(importToken), Buffer.from(row.tokenHash, 'hex'))) {
      await this.assertNotOtherKeys(p, keyId, importToken, now);
      throw expired();
    }
    return row;
  }

  /** A refused token that is another key's of the caller's account and region, still current, says so. */
  private async assertNotOtherKeys(p: Principal, keyId: string, importToken: string, now: number): Promise<void> {
    const row = await this.repo.parametersOfToken(sha256(importToken).toString('hex'));
    if (!row || row.keyId === keyId || row.expiresAt <= now) return;
    const other = row.keyId;
    const key = await this.rows.row(other);
    if (key?.uin === p.uin && key.region === p.region) throw new ImportTokenOtherKeyError(other, keyId);
  }

  /** The caller's imported key, read from the database, in a state that allows `op`. */
  private async externalKey(p: Principal, keyId: string, op: KeyOperation): Promise<KeyEntity> {
    await this.keys.get(p, keyId);
    const key = await this.rows.existing(keyId);
    checkExternal(key, op);
    return key;
  }
}

function checkExternal(key: KeyEntity, op: KeyOperation): void {
  if (key.origin !== 'imported') throw new NotExternalKeyError(key.keyId);
  assertAllowed(key.keyState, op);
}

const expired = () => new ImportTokenExpiredError();

/** BindCloudResource promises the product that the key's material does not expire. */
function boundExpiry(keyId: string): InvalidParameterError {
  return new InvalidParameterError('validTo', (n) => `CMK ${keyId} is used by a cloud product, so its material cannot expire: ${n('validTo')} must be 0`);
}

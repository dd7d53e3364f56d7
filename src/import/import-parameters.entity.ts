import { Column, Entity, PrimaryColumn } from 'typeorm';
import { bigintNumber } from '../persistence/columns';

/**
 * The one valid set of import parameters of an imported key (GetParametersForImport): the
 * RSA wrapping key pair lives in the token under `wrapping_key_id` (its CKA_ID), and only a
 * hash of the ImportToken is kept. A newer call replaces the row and destroys the old pair;
 * a successful import, or the last failed attempt allowed, removes it and destroys the pair.
 */
@Entity('import_parameters')
export class ImportParametersEntity {
  @PrimaryColumn({ name: 'key_id', type: 'varchar', length: 36 })
  keyId: string;

  /** SHA-256 of the ImportToken, hex. */
  @Column({ name: 'token_hash', type: 'varchar', length: 64 })
  tokenHash: string;

  @Column({ name: 'wrapping_algorithm', type: 'varchar', length: 32 })
  wrappingAlgorithm: string;

  @Column({ name: 'wrapping_key_spec', type: 'varchar', length: 16 })
  wrappingKeySpec: string;

  @Column({ name: 'wrapping_key_id', type: 'varchar', length: 64 })
  wrappingKeyId: string;

  /** The public key, SubjectPublicKeyInfo DER, base64 (as answered to the caller). */
  @Column({ name: 'public_key', type: 'text' })
  publicKey: string;

  @Column({ name: 'created_at', type: 'bigint', transformer: bigintNumber })
  createdAt: number;

  @Column({ name: 'expires_at', type: 'bigint', transformer: bigintNumber })
  expiresAt: number;

  /** ImportKeyMaterial calls that used this ImportToken and failed, or are under way (a success removes the row). */
  @Column({ name: 'attempts', type: 'integer', default: 0 })
  attempts: number;
}

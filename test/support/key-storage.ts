import * as http from 'node:http';
import { sql } from './audit-db';
import { destroyTokenObject } from './embedded-token';
import { KmsService } from './kms-service';

/**
 * Where the service under test keeps CMK material (docs/key-storage.md): CI's PostgreSQL pass
 * runs with KMS_KEY_STORAGE=wrapped, its SQLite pass in token mode. A service a test starts
 * without naming the mode inherits it from the environment.
 */
export const WRAPPED = process.env.KMS_KEY_STORAGE === 'wrapped';

export interface StoredVersion {
  /** `cmk <keyId> v<n>` (the token object's label in token mode). */
  label: string;
  /** The version's id: the token object's CKA_ID, the cmk_versions row's id. */
  id: string;
}

/**
 * The versions of a CMK whose material is stored, in version order: its token objects in token
 * mode; in wrapped mode the versions with a wrapped blob in the database, then any token object
 * of the key, labelled `token object cmk <keyId> v<n>` (wrapped mode makes none).
 */
export async function storedVersions(kms: KmsService, keyId: string): Promise<StoredVersion[]> {
  const inToken = (await kms.cli<StoredVersion[]>('token', 'audit')).filter((o) => o.label.startsWith(`cmk ${keyId} v`)).map(({ label, id }) => ({ label, id }));
  if (!WRAPPED) return inToken.sort((a, b) => a.label.localeCompare(b.label, 'en', { numeric: true }));
  const rows = await sql<{ id: string; version: number }>(kms.env, 'SELECT id, version FROM cmk_versions WHERE key_id = $1 AND wrapped IS NOT NULL ORDER BY version', [keyId]);
  return [...rows.map((r) => ({ label: `cmk ${keyId} v${r.version}`, id: r.id })), ...inToken.map((o) => ({ ...o, label: `token object ${o.label}` }))];
}

/** The labels of {@link storedVersions}. */
export const storedLabels = async (kms: KmsService, keyId: string): Promise<string[]> => (await storedVersions(kms, keyId)).map((o) => o.label);

/** How many CMK versions have stored material: token objects, plus wrapped blobs in wrapped mode. */
export async function storedMaterialCount(kms: KmsService): Promise<number> {
  const inToken = (await kms.cli<Array<{ label: string }>>('token', 'audit')).filter((o) => o.label.startsWith('cmk ')).length;
  if (!WRAPPED) return inToken;
  const [row] = await sql<{ n: string | number }>(kms.env, 'SELECT COUNT(*) AS n FROM cmk_versions WHERE wrapped IS NOT NULL');
  return inToken + Number(row.n);
}

/**
 * Makes version 1 of a CMK unusable behind the service's back, as a token that lost it would:
 * destroys its token object, or in wrapped mode corrupts its blob's wrapped key (the KEK's
 * unwrap then fails its integrity check). A wrapped-mode process that already holds the version
 * unwrapped keeps using it until a change to the key drops it from its cache.
 */
export async function loseMaterial(kms: KmsService, keyId: string): Promise<void> {
  const [v1] = (await storedVersions(kms, keyId)).filter((o) => o.label === `cmk ${keyId} v1`);
  if (!WRAPPED) return destroyTokenObject(kms.env.KMS_DATA_DIR, 'secretKey', v1.id);
  const [{ wrapped }] = await sql<{ wrapped: string }>(kms.env, 'SELECT wrapped FROM cmk_versions WHERE id = $1', [v1.id]);
  const blob = Buffer.from(wrapped, 'base64');
  blob[blob.length - 1] ^= 0xff;
  await sql(kms.env, 'UPDATE cmk_versions SET wrapped = $1 WHERE id = $2', [blob.toString('base64'), v1.id]);
}

/** `kms_session_keys` from the instance's metrics (API port, loopback): wrapped versions its workers hold unwrapped. */
export function sessionKeys(kms: KmsService): Promise<number> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port: kms.port, path: '/_kms/metrics', agent: false }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => {
          const m = /^kms_session_keys (\d+)$/m.exec(body);
          if (res.statusCode === 200 && m) resolve(Number(m[1]));
          else reject(new Error(`no kms_session_keys in the metrics (HTTP ${res.statusCode})`));
        });
      })
      .on('error', reject);
  });
}

import { ConfigError } from '../../config/config';

/** The face's own settings (docs/huks-protocol.md, Sessions). */
export interface HuksConfig {
  /** KMS_HUKS_MAX_SESSIONS: open sessions per account, over all workers of an instance. */
  maxSessions: number;
  /** KMS_HUKS_SESSION_TTL_S: idle seconds after which a session expires. */
  ttlSeconds: number;
  /** KMS_HUKS_GCM_DECRYPT_MAX_BYTES: ciphertext one GCM decryption may hold (the token buffers it until finish). */
  gcmDecryptMaxBytes: number;
}

function int(env: NodeJS.ProcessEnv, name: string, dflt: number, min: number, max: number): number {
  const raw = env[name]?.trim();
  if (!raw) return dflt;
  const v = Number(raw);
  if (!Number.isInteger(v) || v < min || v > max) throw new ConfigError(`${name} must be an integer from ${min} to ${max}, got "${raw}"`);
  return v;
}

export function huksConfig(env: NodeJS.ProcessEnv = process.env): HuksConfig {
  return {
    maxSessions: int(env, 'KMS_HUKS_MAX_SESSIONS', 16, 1, 100_000),
    ttlSeconds: int(env, 'KMS_HUKS_SESSION_TTL_S', 60, 1, 86_400),
    gcmDecryptMaxBytes: int(env, 'KMS_HUKS_GCM_DECRYPT_MAX_BYTES', 32 * 1024 * 1024, 1024, 1024 * 1024 * 1024),
  };
}

import * as path from 'node:path';
import * as os from 'node:os';

/** A region this deployment serves and the standard its keys follow (KeyMetadata.Type). */
export interface RegionConfig {
  name: string;
  /** 2: FIPS (AES-256 CMKs), 4: GM (Chinese national standard). */
  standard: 'FIPS' | 'GM';
}

export interface KmsConfig {
  host: string;
  port: number;
  dataDir: string;
  databaseUrl?: string;
  regions: RegionConfig[];
  hsmProfile?: string;
  hsmPin?: string;
  hsmPinFile?: string;
  workers: number;
  cmkQuota: number;
  /** Versions a key may have (KMS_MAX_KEY_VERSIONS): each is an object in the token. */
  maxKeyVersions: number;
  logLevel: 'error' | 'warn' | 'info' | 'debug';
  /** How often each process looks for due jobs (deletions, ...). */
  jobIntervalMs: number;
  /** KMS_RATE_LIMITS: "off", or overrides `[UIN:]Action=N` separated by commas. */
  rateLimits: RateLimitConfig;
  redisUrl?: string;
  /** KMS_TLS_*: serve HTTPS with these PEM files; absent: plain HTTP. */
  tls?: TlsFiles;
  /** KMS_ALLOW_PLAINTEXT_HTTP=1: plain HTTP on an address other than the loopback. */
  allowPlaintextHttp: boolean;
  /**
   * KMS_MAX_CONNECTIONS: open connections per worker (default 1024; 0: no limit). With the
   * per-request body caps it bounds what a worker buffers before authentication (v1 forms,
   * up to 192 KB each, are read before their signature can be checked).
   */
  maxConnections?: number;
  /** KMS_AUDIT and KMS_AUDIT_RETENTION_DAYS. */
  audit: AuditConfig;
}

/** `required`: refuse requests rather than run unaudited; `best-effort`: log and go on; `off`: record nothing. */
export type AuditMode = 'required' | 'best-effort' | 'off';
export interface AuditConfig {
  mode: AuditMode;
  retentionDays: number;
}

function auditMode(raw: string | undefined): AuditMode {
  const v = (raw ?? '').trim() || 'required';
  if (v !== 'required' && v !== 'best-effort' && v !== 'off') throw new ConfigError(`KMS_AUDIT must be required, best-effort or off, got "${v}"`);
  return v;
}

export interface TlsFiles {
  certFile: string;
  keyFile: string;
  /** When set, clients must present a certificate signed by this CA (mutual TLS). */
  clientCaFile?: string;
}

export interface RateLimitConfig {
  enabled: boolean;
  /** `Action` or `UIN:Action` (either part may be `*`) -> requests per second. */
  overrides: Map<string, number>;
}

/** Parses KMS_RATE_LIMITS: unset (documented defaults), `off`, or `Encrypt=1000,100000000001:CreateKey=5,*=50`. */
export function parseRateLimits(raw: string | undefined): RateLimitConfig {
  const text = (raw ?? '').trim();
  if (text.toLowerCase() === 'off') return { enabled: false, overrides: new Map() };
  const overrides = new Map<string, number>();
  for (const item of text.split(',').map((s) => s.trim()).filter(Boolean)) {
    const m = /^(?:(\d{1,20}|\*):)?([A-Za-z]+|\*)=(\d{1,7})$/.exec(item);
    if (!m) throw new ConfigError(`KMS_RATE_LIMITS: "${item}" is not [UIN:]Action=N`);
    overrides.set(m[1] ? `${m[1]}:${m[2]}` : m[2], Number(m[3]));
  }
  return { enabled: true, overrides };
}

export class ConfigError extends Error {}

function intVar(env: NodeJS.ProcessEnv, name: string, dflt: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return dflt;
  if (!/^\d+$/.test(raw)) throw new ConfigError(`${name} must be an integer, got "${raw}"`);
  const v = Number(raw);
  if (v < min || v > max) throw new ConfigError(`${name} must be between ${min} and ${max}, got ${v}`);
  return v;
}

function flagVar(env: NodeJS.ProcessEnv, name: string): boolean {
  const raw = env[name];
  if (raw === undefined || raw === '' || raw === '0') return false;
  if (raw === '1') return true;
  throw new ConfigError(`${name} must be 1 or 0, got "${raw}"`);
}

/** Parses `KMS_REGIONS`: a comma list of names, each optionally suffixed `:gm` or `:fips`. */
export function parseRegions(raw: string | undefined): RegionConfig[] {
  const items = (raw ?? 'ap-guangzhou').split(',').map((s) => s.trim()).filter(Boolean);
  if (items.length === 0) throw new ConfigError('KMS_REGIONS lists no region');
  const seen = new Set<string>();
  return items.map((item) => {
    const [name, std = 'fips'] = item.split(':');
    if (!/^[a-z][a-z0-9-]{1,63}$/.test(name)) throw new ConfigError(`invalid region name "${name}" in KMS_REGIONS`);
    if (seen.has(name)) throw new ConfigError(`region "${name}" listed twice in KMS_REGIONS`);
    seen.add(name);
    const s = std.toLowerCase();
    if (s !== 'fips' && s !== 'gm') throw new ConfigError(`region "${name}": standard must be fips or gm`);
    return { name, standard: s === 'gm' ? 'GM' : 'FIPS' };
  });
}

function tlsFiles(env: NodeJS.ProcessEnv): TlsFiles | undefined {
  const certFile = env.KMS_TLS_CERT_FILE || undefined;
  const keyFile = env.KMS_TLS_KEY_FILE || undefined;
  const clientCaFile = env.KMS_TLS_CLIENT_CA_FILE || undefined;
  if (!certFile && !keyFile) {
    if (clientCaFile) throw new ConfigError('KMS_TLS_CLIENT_CA_FILE needs KMS_TLS_CERT_FILE and KMS_TLS_KEY_FILE');
    return undefined;
  }
  if (!certFile || !keyFile) throw new ConfigError('KMS_TLS_CERT_FILE and KMS_TLS_KEY_FILE must be set together');
  return { certFile: path.resolve(certFile), keyFile: path.resolve(keyFile), clientCaFile: clientCaFile && path.resolve(clientCaFile) };
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): KmsConfig {
  const logLevel = (env.KMS_LOG_LEVEL ?? 'info') as KmsConfig['logLevel'];
  if (!['error', 'warn', 'info', 'debug'].includes(logLevel)) throw new ConfigError('KMS_LOG_LEVEL must be error, warn, info or debug');
  return {
    host: env.KMS_HOST || '127.0.0.1',
    port: intVar(env, 'KMS_PORT', 8080, 0, 65535),
    dataDir: path.resolve(env.KMS_DATA_DIR || './data'),
    databaseUrl: env.KMS_DATABASE_URL || undefined,
    regions: parseRegions(env.KMS_REGIONS),
    hsmProfile: env.KMS_HSM_PROFILE || undefined,
    hsmPin: env.KMS_HSM_PIN || undefined,
    hsmPinFile: env.KMS_HSM_PIN_FILE || undefined,
    workers: intVar(env, 'KMS_WORKERS', Math.max(1, Math.min(os.availableParallelism(), 8)), 1, 64),
    cmkQuota: intVar(env, 'KMS_CMK_QUOTA', 10000, 1, 10_000_000),
    maxKeyVersions: intVar(env, 'KMS_MAX_KEY_VERSIONS', 100, 1, 1_000_000),
    logLevel,
    jobIntervalMs: intVar(env, 'KMS_JOB_INTERVAL_MS', 10_000, 50, 3_600_000),
    rateLimits: parseRateLimits(env.KMS_RATE_LIMITS),
    redisUrl: env.KMS_REDIS_URL || undefined,
    tls: tlsFiles(env),
    allowPlaintextHttp: flagVar(env, 'KMS_ALLOW_PLAINTEXT_HTTP'),
    maxConnections: intVar(env, 'KMS_MAX_CONNECTIONS', 1024, 0, 1_000_000) || undefined,
    audit: { mode: auditMode(env.KMS_AUDIT), retentionDays: intVar(env, 'KMS_AUDIT_RETENTION_DAYS', 365, 1, 36_500) },
  };
}

/** Nest injection token for the loaded KmsConfig. */
export const KMS_CONFIG = Symbol('KMS_CONFIG');

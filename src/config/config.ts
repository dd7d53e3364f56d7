import * as path from 'node:path';
import * as os from 'node:os';
import { z } from 'zod';
import { LOOPBACK_CIDRS, cidrProblem } from '../metrics/metrics-access';

/** A region this deployment serves and the standard its keys follow (KeyMetadata.Type). */
export interface RegionConfig {
  name: string;
  /** 2: FIPS (AES-256 CMKs), 4: GM (Chinese national standard). */
  standard: 'FIPS' | 'GM';
}

/** PostgreSQL connections a process may open unless KMS_DATABASE_POOL says otherwise. */
export const DEFAULT_DATABASE_POOL = 10;

export interface KmsConfig {
  host: string;
  port: number;
  dataDir: string;
  databaseUrl?: string;
  /** KMS_DATABASE_POOL: PostgreSQL connections each process (primary and every worker) may open. */
  databasePool: number;
  regions: RegionConfig[];
  hsmProfile?: string;
  hsmPin?: string;
  hsmPinFile?: string;
  /** KMS_HSM_SO_PIN / KMS_HSM_SO_PIN_FILE: the security officer's PIN, needed only to make key-encryption keys (wrapped storage). */
  hsmSoPin?: string;
  hsmSoPinFile?: string;
  /** KMS_KEY_STORAGE: where new CMK material lives, `token` (default) or `wrapped` (docs/key-storage.md). */
  keyStorage: 'token' | 'wrapped';
  /** KMS_KEY_CACHE_ENTRIES: unwrapped CMK versions each process keeps as session objects (wrapped storage). */
  keyCacheEntries: number;
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
  /** KMS_SIGNATURE_REGISTER_ENTRIES: recent request signatures an instance without Redis remembers (replay protection). */
  signatureRegisterEntries: number;
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
  /** KMS_CHANGE_FEED_PAGE: change events each query of the change feed's poll reads (tests make it small). */
  changeFeedPage: number;
  /** KMS_METRICS_ALLOW: CIDR blocks (or addresses) that may read /_kms/metrics and /_kms/ready (default: the loopback). */
  metricsAllow: string[];
  /** KMS_ADMIN_PORT / KMS_ADMIN_HOST: a plain-HTTP listener for /_kms/metrics, /_kms/health and /_kms/ready only; metrics then leave the API port. */
  admin?: { host: string; port: number };
  /**
   * KMS_TOKEN_RECONCILE_INTERVAL_S (0: no periodic run) and KMS_TOKEN_RECONCILE_GRACE_S: how
   * often the job removes token objects no row owns, and how long an object made for a row not
   * yet written is left alone.
   */
  tokenReconcile: { intervalMs: number; graceMs: number };
}

/** `required`: refuse requests rather than run unaudited; `best-effort`: log and go on; `off`: record nothing. */
export type AuditMode = 'required' | 'best-effort' | 'off';
export interface AuditConfig {
  mode: AuditMode;
  retentionDays: number;
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

/** Parses KMS_RATE_LIMITS: unset (documented defaults), `off`, or `Encrypt=1000,100000000001:CreateKey=5,encrypt-data=500,*=50`. */
export function parseRateLimits(raw: string | undefined): RateLimitConfig {
  const text = (raw ?? '').trim();
  if (text.toLowerCase() === 'off') return { enabled: false, overrides: new Map() };
  const overrides = new Map<string, number>();
  for (const item of text.split(',').map((s) => s.trim()).filter(Boolean)) {
    const m = /^(?:(\d{1,20}|\*):)?([A-Za-z][A-Za-z_-]{0,63}|\*)=(\d{1,7})$/.exec(item);
    if (!m) throw new ConfigError(`KMS_RATE_LIMITS: "${item}" is not [UIN:]Action=N`);
    overrides.set(m[1] ? `${m[1]}:${m[2]}` : m[2], Number(m[3]));
  }
  return { enabled: true, overrides };
}

export class ConfigError extends Error {}

/** Parses `KMS_REGIONS`: a comma list of names, each optionally suffixed `:gm` or `:fips`. */
export function parseRegions(raw: string | undefined): RegionConfig[] {
  const items = (raw ?? 'ap-guangzhou').split(',').map((s) => s.trim()).filter(Boolean);
  if (items.length === 0) throw new ConfigError('KMS_REGIONS lists no region');
  const seen = new Set<string>();
  return items.map((item) => {
    const [name, std = 'fips'] = item.split(':');
    if (!/^[a-z][a-z0-9-]{1,63}$/.test(name)) throw new ConfigError(`KMS_REGIONS: invalid region name "${name}"`);
    if (seen.has(name)) throw new ConfigError(`KMS_REGIONS: region "${name}" listed twice`);
    seen.add(name);
    const s = std.toLowerCase();
    if (s !== 'fips' && s !== 'gm') throw new ConfigError(`KMS_REGIONS: region "${name}": standard must be fips or gm`);
    return { name, standard: s === 'gm' ? 'GM' : 'FIPS' };
  });
}


/** An empty variable means "unset": the default applies. */
const unsetIfEmpty = (v: unknown) => (v === '' ? undefined : v);

/** An environment variable, checked: `parse` returns the value or throws ConfigError with the reason. */
function parsed<T>(parse: (raw: string | undefined) => T) {
  return z.preprocess(unsetIfEmpty, z.string().optional()).transform((raw, ctx) => {
    try {
      return parse(raw);
    } catch (e) {
      if (!(e instanceof ConfigError)) throw e;
      ctx.addIssue({ code: 'custom', message: e.message });
      return z.NEVER;
    }
  });
}

function int(name: string, dflt: number, min: number, max: number) {
  return parsed((raw) => {
    if (raw === undefined) return dflt;
    if (!/^\d+$/.test(raw)) throw new ConfigError(`${name} must be an integer, got "${raw}"`);
    const v = Number(raw);
    if (v < min || v > max) throw new ConfigError(`${name} must be between ${min} and ${max}, got ${v}`);
    return v;
  });
}

function oneOf<T extends string>(name: string, values: readonly T[], dflt: T) {
  return parsed((raw) => {
    const v = raw?.trim() || dflt;
    if (!(values as readonly string[]).includes(v)) throw new ConfigError(`${name} must be ${values.slice(0, -1).join(', ')} or ${values[values.length - 1]}, got "${v}"`);
    return v as T;
  });
}

const flag = (name: string) => oneOf(name, ['0', '1'], '0').transform((v) => v === '1');
const text = z.preprocess(unsetIfEmpty, z.string().optional());

function metricsAllow(raw: string | undefined): string[] {
  const items = (raw ?? '').split(',').map((x) => x.trim()).filter(Boolean);
  const problems = items.map(cidrProblem).filter((p) => p !== undefined);
  if (problems.length) throw new ConfigError(`KMS_METRICS_ALLOW: ${problems.join('; ')}`);
  return items.length ? items : LOOPBACK_CIDRS;
}

/**
 * The environment, variable by variable. zod checks every variable before any error is
 * raised, so one start reports every problem at once.
 */
const ENV = z
  .object({
    KMS_HOST: text,
    KMS_PORT: int('KMS_PORT', 8080, 0, 65535),
    KMS_DATA_DIR: text,
    KMS_DATABASE_URL: text,
    KMS_DATABASE_POOL: int('KMS_DATABASE_POOL', DEFAULT_DATABASE_POOL, 1, 1000),
    KMS_REGIONS: parsed(parseRegions),
    KMS_HSM_PROFILE: text,
    KMS_HSM_PIN: text,
    KMS_HSM_PIN_FILE: text,
    KMS_HSM_SO_PIN: text,
    KMS_HSM_SO_PIN_FILE: text,
    KMS_KEY_STORAGE: oneOf('KMS_KEY_STORAGE', ['token', 'wrapped'] as const, 'token'),
    KMS_KEY_CACHE_ENTRIES: int('KMS_KEY_CACHE_ENTRIES', 10_000, 1, 10_000_000),
    KMS_WORKERS: int('KMS_WORKERS', Math.max(1, Math.min(os.availableParallelism(), 8)), 1, 64),
    KMS_CMK_QUOTA: int('KMS_CMK_QUOTA', 10000, 1, 10_000_000),
    KMS_MAX_KEY_VERSIONS: int('KMS_MAX_KEY_VERSIONS', 100, 1, 1_000_000),
    KMS_LOG_LEVEL: oneOf('KMS_LOG_LEVEL', ['error', 'warn', 'info', 'debug'] as const, 'info'),
    KMS_JOB_INTERVAL_MS: int('KMS_JOB_INTERVAL_MS', 10_000, 50, 3_600_000),
    KMS_RATE_LIMITS: parsed(parseRateLimits),
    KMS_REDIS_URL: text,
    KMS_SIGNATURE_REGISTER_ENTRIES: int('KMS_SIGNATURE_REGISTER_ENTRIES', 4_000_000, 1, 100_000_000),
    KMS_TLS_CERT_FILE: text,
    KMS_TLS_KEY_FILE: text,
    KMS_TLS_CLIENT_CA_FILE: text,
    KMS_ALLOW_PLAINTEXT_HTTP: flag('KMS_ALLOW_PLAINTEXT_HTTP'),
    KMS_MAX_CONNECTIONS: int('KMS_MAX_CONNECTIONS', 1024, 0, 1_000_000),
    KMS_AUDIT: oneOf('KMS_AUDIT', ['required', 'best-effort', 'off'] as const, 'required'),
    KMS_AUDIT_RETENTION_DAYS: int('KMS_AUDIT_RETENTION_DAYS', 365, 1, 36_500),
    KMS_CHANGE_FEED_PAGE: int('KMS_CHANGE_FEED_PAGE', 5000, 10, 100_000),
    KMS_METRICS_ALLOW: parsed(metricsAllow),
    KMS_ADMIN_PORT: int('KMS_ADMIN_PORT', 0, 1, 65535),
    KMS_ADMIN_HOST: text,
    KMS_TOKEN_RECONCILE_INTERVAL_S: int('KMS_TOKEN_RECONCILE_INTERVAL_S', 3600, 0, 30 * 86_400),
    KMS_TOKEN_RECONCILE_GRACE_S: int('KMS_TOKEN_RECONCILE_GRACE_S', 600, 0, 86_400),
  });

/** Rules between variables, on the raw environment, so that they are reported with the variables' own problems. */
function pairings(env: NodeJS.ProcessEnv): string[] {
  const problems: string[] = [];
  if (!env.KMS_TLS_CERT_FILE !== !env.KMS_TLS_KEY_FILE) problems.push('KMS_TLS_CERT_FILE and KMS_TLS_KEY_FILE must be set together');
  if (env.KMS_TLS_CLIENT_CA_FILE && !env.KMS_TLS_CERT_FILE && !env.KMS_TLS_KEY_FILE) problems.push('KMS_TLS_CLIENT_CA_FILE needs KMS_TLS_CERT_FILE and KMS_TLS_KEY_FILE');
  if (env.KMS_ADMIN_PORT && Number(env.KMS_ADMIN_PORT) === Number(env.KMS_PORT || 8080)) problems.push(`KMS_ADMIN_PORT must differ from KMS_PORT (${env.KMS_PORT || 8080})`);
  return problems;
}

/** Reads the configuration from the environment; a ConfigError lists every variable that is wrong, one per line. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): KmsConfig {
  const r = ENV.safeParse(env);
  const problems = [...(r.error?.issues.map((i) => i.message) ?? []), ...pairings(env)];
  if (!r.success || problems.length) {
    throw new ConfigError(problems.length === 1 ? problems[0] : `${problems.length} problems in the configuration:\n  ${problems.join('\n  ')}`);
  }
  const e = r.data;
  const tls = e.KMS_TLS_CERT_FILE && e.KMS_TLS_KEY_FILE ? { certFile: path.resolve(e.KMS_TLS_CERT_FILE), keyFile: path.resolve(e.KMS_TLS_KEY_FILE), clientCaFile: e.KMS_TLS_CLIENT_CA_FILE && path.resolve(e.KMS_TLS_CLIENT_CA_FILE) } : undefined;
  return {
    host: e.KMS_HOST ?? '127.0.0.1',
    port: e.KMS_PORT,
    dataDir: path.resolve(e.KMS_DATA_DIR ?? './data'),
    databaseUrl: e.KMS_DATABASE_URL,
    databasePool: e.KMS_DATABASE_POOL,
    regions: e.KMS_REGIONS,
    hsmProfile: e.KMS_HSM_PROFILE,
    hsmPin: e.KMS_HSM_PIN,
    hsmPinFile: e.KMS_HSM_PIN_FILE,
    hsmSoPin: e.KMS_HSM_SO_PIN,
    hsmSoPinFile: e.KMS_HSM_SO_PIN_FILE,
    keyStorage: e.KMS_KEY_STORAGE,
    keyCacheEntries: e.KMS_KEY_CACHE_ENTRIES,
    workers: e.KMS_WORKERS,
    cmkQuota: e.KMS_CMK_QUOTA,
    maxKeyVersions: e.KMS_MAX_KEY_VERSIONS,
    logLevel: e.KMS_LOG_LEVEL,
    jobIntervalMs: e.KMS_JOB_INTERVAL_MS,
    rateLimits: e.KMS_RATE_LIMITS,
    redisUrl: e.KMS_REDIS_URL,
    signatureRegisterEntries: e.KMS_SIGNATURE_REGISTER_ENTRIES,
    tls,
    allowPlaintextHttp: e.KMS_ALLOW_PLAINTEXT_HTTP,
    maxConnections: e.KMS_MAX_CONNECTIONS || undefined,
    audit: { mode: e.KMS_AUDIT, retentionDays: e.KMS_AUDIT_RETENTION_DAYS },
    changeFeedPage: e.KMS_CHANGE_FEED_PAGE,
    metricsAllow: e.KMS_METRICS_ALLOW,
    admin: e.KMS_ADMIN_PORT ? { host: e.KMS_ADMIN_HOST ?? e.KMS_HOST ?? '127.0.0.1', port: e.KMS_ADMIN_PORT } : undefined,
    tokenReconcile: { intervalMs: e.KMS_TOKEN_RECONCILE_INTERVAL_S * 1000, graceMs: e.KMS_TOKEN_RECONCILE_GRACE_S * 1000 },
  };
}

/** Nest injection token for the loaded KmsConfig. */
export const KMS_CONFIG = Symbol('KMS_CONFIG');

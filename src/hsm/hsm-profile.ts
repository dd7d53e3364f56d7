import * as fs from 'node:fs';
import * as path from 'node:path';
import { GmMechanisms, parseGmMechanisms } from './gm-mechanisms';

/**
 * How to reach one PKCS#11 token. Profiles live in `hsm-config/*.json`; the format is
 * documented in hsm-config/README.md.
 */
export interface HsmProfile {
  name: string;
  /** Absolute path of the vendor's PKCS#11 library. */
  module: string;
  /** Exactly one selector: the token label (preferred), its serial number, or a slot id. */
  token: { label?: string; serial?: string; slotId?: number };
  /** Where the user PIN comes from when neither KMS_HSM_PIN nor KMS_HSM_PIN_FILE is set. */
  pinFile?: string;
  /** Where the security officer's PIN comes from when neither KMS_HSM_SO_PIN nor KMS_HSM_SO_PIN_FILE is set (wrapped storage's set-up only). */
  soPinFile?: string;
  /** Upper bound of open sessions, besides the long-lived login session. */
  maxSessions: number;
  /** "sync" blocks the event loop for each call (fastest on a local token); "async" for network HSMs. */
  callMode: 'sync' | 'async';
  /** Minimum time between two module reloads while the token is away. */
  reloadIntervalMs: number;
  /** Environment the module needs before it is loaded (e.g. SOFTHSM2_CONF). */
  env: Record<string, string>;
  /** Vendor mechanism ids for SM2 and SM4 on a GM-certified HSM; empty for tokens without them. */
  gm: GmMechanisms;
}

export class HsmProfileError extends Error {}

export function parseProfile(raw: unknown, source: string, baseDir: string): HsmProfile {
  const fail = (m: string): never => {
    throw new HsmProfileError(`${source}: ${m}`);
  };
  if (typeof raw !== 'object' || raw === null) fail('not a JSON object');
  const o = raw as Record<string, unknown>;
  if (typeof o.module !== 'string' || !o.module) fail('"module" (library path) is required');
  const t = (o.token ?? {}) as Record<string, unknown>;
  const selectors = ['label', 'serial', 'slotId'].filter((k) => t[k] !== undefined);
  if (selectors.length !== 1) fail('"token" needs exactly one of label, serial, slotId');
  if (t.label !== undefined && typeof t.label !== 'string') fail('token.label must be a string');
  if (t.serial !== undefined && typeof t.serial !== 'string') fail('token.serial must be a string');
  if (t.slotId !== undefined && !Number.isInteger(t.slotId)) fail('token.slotId must be an integer');
  const maxSessions = o.maxSessions ?? 16;
  if (!Number.isInteger(maxSessions) || (maxSessions as number) < 1 || (maxSessions as number) > 1024) fail('maxSessions must be 1..1024');
  const callMode = o.callMode ?? 'sync';
  if (callMode !== 'sync' && callMode !== 'async') fail('callMode must be "sync" or "async"');
  const reload = o.reloadIntervalMs ?? 3000;
  if (!Number.isInteger(reload) || (reload as number) < 100) fail('reloadIntervalMs must be an integer >= 100');
  const env = (o.env ?? {}) as Record<string, unknown>;
  for (const [k, v] of Object.entries(env)) if (typeof v !== 'string') fail(`env.${k} must be a string`);
  const gm = parseGmMechanisms(o.gm, fail);
  return {
    name: typeof o.name === 'string' ? o.name : path.basename(source, '.json'),
    module: o.module as string,
    token: { label: t.label as string | undefined, serial: t.serial as string | undefined, slotId: t.slotId as number | undefined },
    pinFile: typeof o.pinFile === 'string' ? path.resolve(baseDir, o.pinFile) : undefined,
    soPinFile: typeof o.soPinFile === 'string' ? path.resolve(baseDir, o.soPinFile) : undefined,
    maxSessions: maxSessions as number,
    callMode: callMode as 'sync' | 'async',
    reloadIntervalMs: reload as number,
    env: env as Record<string, string>,
    gm,
  };
}

/** Loads `name` (a file in hsm-config/, with or without .json) or an explicit path. */
export function loadProfile(nameOrPath: string, configDir: string): HsmProfile {
  const candidates = [nameOrPath, path.join(configDir, nameOrPath), path.join(configDir, `${nameOrPath}.json`)];
  const file = candidates.find((c) => fs.existsSync(c) && fs.statSync(c).isFile());
  if (!file) throw new HsmProfileError(`HSM profile "${nameOrPath}" not found (looked in ${configDir})`);
  let raw: unknown;
  try {
    raw = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    throw new HsmProfileError(`${file}: invalid JSON (${(e as Error).message})`);
  }
  return parseProfile(raw, file, path.dirname(file));
}

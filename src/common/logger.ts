import { KmsConfig } from '../config/config';

const levels = { error: 0, warn: 1, info: 2, debug: 3 } as const;
type Level = keyof typeof levels;

/**
 * Structured one-line JSON logger. Callers pass fields, never secrets: nothing here
 * inspects values, so the rule is kept at the call sites (PINs, SecretKeys, plaintexts
 * and key material are never passed in).
 */
export class Log {
  private static max: number = levels.info;
  static configure(cfg: Pick<KmsConfig, 'logLevel'>): void {
    Log.max = levels[cfg.logLevel];
  }
  static error(msg: string, fields: Record<string, unknown> = {}): void { Log.write('error', msg, fields); }
  static warn(msg: string, fields: Record<string, unknown> = {}): void { Log.write('warn', msg, fields); }
  static info(msg: string, fields: Record<string, unknown> = {}): void { Log.write('info', msg, fields); }
  static debug(msg: string, fields: Record<string, unknown> = {}): void { Log.write('debug', msg, fields); }
  private static write(level: Level, msg: string, fields: Record<string, unknown>): void {
    if (levels[level] > Log.max) return;
    process.stderr.write(JSON.stringify({ t: new Date().toISOString(), level, pid: process.pid, msg, ...fields }) + '\n');
  }
}

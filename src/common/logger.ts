import pino from 'pino';
import type { LoggerService } from '@nestjs/common';
import pretty from 'pino-pretty';
import { KmsConfig } from '../config/config';

type Level = KmsConfig['logLevel'];

/**
 * Field names whose values are never written, at the top level or one level down (a
 * request's `headers.authorization`): the call sites pass no secrets, and this is the net
 * under that rule.
 */
export const REDACTED_FIELDS = [
  'secretKey', 'SecretKey', 'secret_key', 'sk', 'pin', 'hsmPin', 'soPin', 'password',
  'plaintext', 'Plaintext', 'plainText', 'plain_text', 'PrivateKeyPlaintext', 'privateKey',
  'dataKey', 'datakey', 'material', 'authorization', 'Authorization', 'x-auth-token', 'X-Auth-Token', 'token', 'Token',
];
export const REDACTED = '[redacted]';

const paths = REDACTED_FIELDS.flatMap((f) => (/^\w+$/.test(f) ? [f, `*.${f}`] : [`["${f}"]`, `*["${f}"]`]));

/**
 * One JSON line per entry on stderr, as before pino: `level` (its name), `t` (ISO time),
 * `pid`, `msg`, then the caller's fields; pretty-printed by pino-pretty when stderr is a
 * terminal. Written synchronously, so nothing is lost when the process exits.
 */
function create(level: Level): pino.Logger {
  const stream = process.stderr.isTTY ? pretty({ destination: 2, sync: true, messageKey: 'msg', timestampKey: 't', translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid' }) : pino.destination({ dest: 2, sync: true });
  return pino(
    {
      level,
      base: { pid: process.pid },
      timestamp: () => `,"t":"${new Date().toISOString()}"`,
      formatters: { level: (label) => ({ level: label }) },
      redact: { paths, censor: REDACTED },
    },
    stream,
  );
}

/** The service's log: call sites pass a message and fields, never secrets. */
export class Log {
  private static logger = create('info');
  static configure(cfg: Pick<KmsConfig, 'logLevel'>): void {
    Log.logger = create(cfg.logLevel);
  }
  static error(msg: string, fields: Record<string, unknown> = {}): void { Log.logger.error({ msg, ...fields }); }
  static warn(msg: string, fields: Record<string, unknown> = {}): void { Log.logger.warn({ msg, ...fields }); }
  static info(msg: string, fields: Record<string, unknown> = {}): void { Log.logger.info({ msg, ...fields }); }
  static debug(msg: string, fields: Record<string, unknown> = {}): void { Log.logger.debug({ msg, ...fields }); }
}

/**
 * Nest's own messages as lines of this log, not Nest's coloured console: its warnings, and the
 * error that stops a start (a token or database out of reach), which Nest hands over as the
 * error itself. Its informational chatter (modules loaded, routes mapped) stays out.
 */
export const nestLog: LoggerService = {
  log: () => undefined,
  warn: (message: unknown, ...rest: unknown[]) => Log.warn(textOf(message), nestFields(message, rest)),
  error: (message: unknown, ...rest: unknown[]) => Log.error(textOf(message), nestFields(message, rest)),
};

const textOf = (m: unknown): string => (m instanceof Error ? m.message : String(m));

/** Nest appends its context (the class that logs) last; an error keeps its name and, without its first line (the message again), its stack. */
function nestFields(message: unknown, rest: unknown[]): Record<string, unknown> {
  const context = rest.length > 0 && typeof rest[rest.length - 1] === 'string' ? rest[rest.length - 1] : undefined;
  if (!(message instanceof Error)) return { context };
  return { context, error: message.name, stack: message.stack?.split('\n').slice(1).map((l) => l.trim()) };
}

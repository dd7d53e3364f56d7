import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { PassThrough, Readable, Transform, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { ALGORITHMS, Algorithm, suiteByName } from '../sdk/algorithms';
import { EncryptSDKError, EncryptSDKErrorCode } from '../sdk/errors';
import { KeyManager, MasterKey } from '../sdk/key-manager';
import { DecryptStream, EncryptStream, createDecryptStream, createEncryptStream } from '../sdk/streams';

/**
 * `kms encrypt` / `kms decrypt`: files (or `-` for stdin/stdout) through the Encryption SDK.
 * The output file appears only once the whole message is through: it is written beside its
 * place under a temporary name and renamed at the end (removed on failure).
 */

export const FILE_CRYPTO_HELP = `  kms encrypt --key KEYID [--backup REGION:KEYID ...] [--algorithm NAME] [--context JSON]
              [--block-size N] --in FILE --out FILE
                                     encrypt a file (- for stdin/stdout) under a data key of KEYID
                                     (in KMS_REGION) and each backup; algorithm SM4_GCM_128 unless
                                     given: ${ALGORITHMS.map((s) => s.name).join(', ').replace(/(.{1,58}(?:,|$)) ?/g, `$1\n${' '.repeat(37)}`).trimEnd()}
  kms decrypt --in FILE --out FILE [--context JSON] [--key KEYID [--backup REGION:KEYID ...]]
                                     decrypt it; --context is the context expected (else refused);
                                     with --key only under these master keys (strict), without
                                     under any CMK the message names that the credential may use
                                     Both read KMS_ENDPOINT, KMS_SECRET_ID, KMS_SECRET_KEY, KMS_REGION.
                                     Exit 0 done, 2 arguments, 3 files, 4 KMS refused or unreachable,
                                     5 message invalid or tampered, 1 other.
`;

export const EXIT = { ok: 0, other: 1, usage: 2, io: 3, kms: 4, message: 5 } as const;

const EXIT_BY_CODE: Partial<Record<EncryptSDKErrorCode, number>> = {
  InvalidParameter: EXIT.usage,
  KmsAccessError: EXIT.kms,
  GenerateDataKeyError: EXIT.kms,
  EncryptDataKeyError: EXIT.kms,
  DecryptDataKeyError: EXIT.kms,
  InvalidMessage: EXIT.message,
  SignCheckFail: EXIT.message,
  LocalDecryptError: EXIT.message,
  CheckAlgorithmError: EXIT.message,
};

class CliError extends Error {
  constructor(
    readonly exit: number,
    message: string,
  ) {
    super(message);
  }
}

const usage = (m: string) => new CliError(EXIT.usage, m);

const VALUED = ['--key', '--backup', '--algorithm', '--context', '--block-size', '--in', '--out'];

function parse(args: string[], allowed: string[]): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (let i = 0; i < args.length; i++) {
    const name = args[i];
    if (!allowed.includes(name) || !VALUED.includes(name)) throw usage(`unknown argument "${name}"`);
    const v = args[i + 1];
    if (v === undefined || (v.startsWith('--') && v !== '-')) throw usage(`${name} needs a value`);
    if (name !== '--backup' && out.has(name)) throw usage(`${name} is given twice`);
    out.set(name, [...(out.get(name) ?? []), v]);
    i++;
  }
  return out;
}

const one = (flags: Map<string, string[]>, name: string): string | undefined => flags.get(name)?.[0];
function required(flags: Map<string, string[]>, name: string): string {
  const v = one(flags, name);
  if (v === undefined) throw usage(`missing ${name}`);
  return v;
}

function env(name: string): string {
  const v = process.env[name];
  if (!v) throw usage(`${name} is not set`);
  return v;
}

function keyManager(masterKeys: MasterKey[]): KeyManager {
  // No master key (decrypt without --key): discovery, whatever CMK the message names.
  return new KeyManager({ endpoint: env('KMS_ENDPOINT'), secretId: env('KMS_SECRET_ID'), secretKey: env('KMS_SECRET_KEY'), masterKeys, discovery: masterKeys.length === 0 });
}

function input(file: string): { stream: Readable; size: number | null } {
  if (file === '-') return { stream: process.stdin, size: null };
  let st: fs.Stats;
  try {
    st = fs.statSync(file);
  } catch (e) {
    throw new CliError(EXIT.io, `cannot read ${file}: ${(e as Error).message}`);
  }
  if (!st.isFile()) throw new CliError(EXIT.io, `${file} is not a file`);
  return { stream: fs.createReadStream(file, { highWaterMark: 1024 * 1024 }), size: st.size };
}

/** The output, under a temporary name until `commit`. */
function output(file: string, mode: number): { stream: Writable; commit(): void; abandon(): void } {
  if (file === '-') return { stream: process.stdout, commit: () => undefined, abandon: () => undefined };
  const dir = path.dirname(path.resolve(file));
  const temp = path.join(dir, `.${path.basename(file)}.${crypto.randomBytes(6).toString('hex')}.partial`);
  let fd: number;
  try {
    fd = fs.openSync(temp, 'wx', mode);
  } catch (e) {
    throw new CliError(EXIT.io, `cannot write ${file}: ${(e as Error).message}`);
  }
  return {
    stream: fs.createWriteStream('', { fd }),
    commit: () => fs.renameSync(temp, file),
    abandon: () => fs.rmSync(temp, { force: true }),
  };
}

const PROGRESS_MIN_BYTES = 8 * 1024 * 1024;
const MIB = 1024 * 1024;

/** A progress bar on stderr when it is a terminal and the input a file of 8 MiB or more; else nothing. */
function progress(size: number | null): Transform {
  if (!process.stderr.isTTY || size === null || size < PROGRESS_MIN_BYTES) return new PassThrough();
  let done = 0;
  let last = 0;
  const draw = (final: boolean) => {
    const share = Math.min(1, done / size);
    const width = 30;
    const filled = Math.round(share * width);
    process.stderr.write(`\r[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${(share * 100).toFixed(0).padStart(3)}% ${(done / MIB).toFixed(1)} / ${(size / MIB).toFixed(1)} MiB${final ? '\n' : ''}`);
  };
  return new Transform({
    transform(chunk: Buffer, _e, cb) {
      done += chunk.length;
      if (Date.now() - last > 100) {
        last = Date.now();
        draw(false);
      }
      cb(null, chunk);
    },
    flush(cb) {
      draw(true);
      cb();
    },
  });
}

function masterKeysOf(flags: Map<string, string[]>): MasterKey[] {
  const keys: MasterKey[] = [{ region: env('KMS_REGION'), keyId: required(flags, '--key') }];
  for (const b of flags.get('--backup') ?? []) {
    const at = b.indexOf(':');
    if (at <= 0 || at === b.length - 1) throw usage(`--backup takes REGION:KEYID, got "${b}"`);
    keys.push({ region: b.slice(0, at), keyId: b.slice(at + 1) });
  }
  return keys;
}

async function run(cmd: 'encrypt' | 'decrypt', args: string[]): Promise<void> {
  const flags = parse(args, cmd === 'encrypt' ? VALUED : ['--in', '--out', '--context', '--key', '--backup']);
  const inFile = required(flags, '--in');
  const outFile = required(flags, '--out');
  let km: KeyManager;
  let sdk: EncryptStream | DecryptStream;
  if (cmd === 'encrypt') {
    const name = one(flags, '--algorithm') ?? 'SM4_GCM_128';
    const suite = suiteByName(name);
    if (!suite) throw usage(`--algorithm must be one of ${ALGORITHMS.map((s) => s.name).join(', ')}; got "${name}"`);
    const block = one(flags, '--block-size') ?? '0';
    if (!/^\d{1,9}$/.test(block)) throw usage(`--block-size must be a number of bytes, got "${block}"`);
    km = keyManager(masterKeysOf(flags));
    sdk = createEncryptStream(km, suite.algorithm as Algorithm, one(flags, '--context') ?? '', Number(block));
  } else {
    km = keyManager(flags.has('--key') || flags.has('--backup') ? masterKeysOf(flags) : []);
    const context = one(flags, '--context');
    sdk = createDecryptStream(km, context === undefined ? {} : { encryptionContext: context });
  }
  const src = input(inFile);
  const dst = output(outFile, cmd === 'decrypt' ? 0o600 : 0o644);
  try {
    await pipeline(src.stream, progress(src.size), sdk, dst.stream);
    dst.commit();
  } catch (e) {
    dst.abandon();
    throw e;
  } finally {
    km.close();
  }
  if (sdk instanceof EncryptStream && sdk.masterKey) {
    const primary = km.masterKeys[0];
    if (sdk.masterKey.region !== primary.region || sdk.masterKey.keyId !== primary.keyId) process.stderr.write(`kms: the primary master key was not usable; the data key came from ${sdk.masterKey.region}:${sdk.masterKey.keyId}\n`);
  }
}

/** Runs the command; the exit status of FILE_CRYPTO_HELP. */
export async function fileCrypto(cmd: 'encrypt' | 'decrypt', args: string[]): Promise<number> {
  try {
    await run(cmd, args);
    return EXIT.ok;
  } catch (e) {
    if (e instanceof EncryptSDKError) {
      process.stderr.write(`kms ${cmd}: ${e.code}: ${e.message}\n`);
      return EXIT_BY_CODE[e.code] ?? EXIT.other;
    }
    if (e instanceof CliError) {
      process.stderr.write(`kms ${cmd}: ${e.message}\n`);
      if (e.exit === EXIT.usage) process.stderr.write(`\nUsage:\n${FILE_CRYPTO_HELP}`);
      return e.exit;
    }
    const err = e as NodeJS.ErrnoException;
    if (err.code && err.syscall) {
      process.stderr.write(`kms ${cmd}: ${err.message}\n`);
      return EXIT.io;
    }
    process.stderr.write(`kms ${cmd}: ${err.message ?? String(e)}\n`);
    return EXIT.other;
  }
}

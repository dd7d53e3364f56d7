import 'reflect-metadata';
import * as fs from 'node:fs';
import { INestApplicationContext } from '@nestjs/common';
import { Command, CommanderError, Help } from 'commander';
import { NestFactory } from '@nestjs/core';
import { AccountsService, Status } from '../accounts/accounts.service';
import { CredentialKind } from '../accounts/credential.entity';
import { AppModule } from '../app.module';
import { AuditReader, AuditQuery } from '../audit/audit-reader';
import { AuditEvent } from '../audit/audit-event';
import { AuditTrail } from '../audit/audit-trail';
import { AuditVerifier } from '../audit/audit-verifier';
import { scrubEnv } from '../common/environ';
import { Log, nestLog } from '../common/logger';
import { ConfigError, KmsConfig, loadConfig } from '../config/config';
import { KeyStore } from '../hsm/key-store';
import { KeysService } from '../keys/keys.service';
import { ensureServiceKeys, prepareSchema } from '../prepare';
import { FILE_CRYPTO_HELP, fileCrypto } from './file-crypto';
import { rotateKek } from './kek-rotate';
import { migrateStorage } from './token-migrate';
import { tokenReconcile } from './token-reconcile';

class UsageError extends Error {}

/** How `credential list` names each kind of credential. */
const CREDENTIAL_KINDS: Record<CredentialKind, string> = { key: 'KeyPair', token: 'AccessToken' };

function readPolicy(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new UsageError(`cannot read the policy file ${file}: ${(e as Error).message}`);
  }
}

/** An ISO 8601 time option as milliseconds, or undefined when it is not given. */
function isoTime(value: string | undefined, name: string): number | undefined {
  if (value === undefined) return undefined;
  const t = Date.parse(value);
  if (!/^\d{4}-\d{2}-\d{2}/.test(value) || Number.isNaN(t)) throw new UsageError(`${name} must be an ISO 8601 time, got "${value}"`);
  return t;
}

function storageMode(v: string): 'token' | 'wrapped' {
  if (v !== 'token' && v !== 'wrapped') throw new UsageError(`--to must be token or wrapped, got "${v}"`);
  return v;
}

/** What the audit trail records of an operator command (face `cli`). */
type Audited = Pick<AuditEvent, 'action' | 'account' | 'subUser' | 'secretId' | 'keys'>;

/**
 * Runs `fn` on the core; with `audited`, the command is recorded, success or failure
 * (`describe` adds what only the result knows, such as a new account's UIN).
 */
async function withCore<T>(cfg: KmsConfig, fn: (ctx: INestApplicationContext) => Promise<T>, audited?: Audited, describe?: (r: T) => Partial<Audited>): Promise<T> {
  await prepareSchema(cfg);
  const ctx = await NestFactory.createApplicationContext(AppModule.forRoot(cfg, false), { logger: nestLog });
  try {
    await ensureServiceKeys(ctx, cfg);
  } catch (e) {
    await ctx.close();
    throw e;
  }
  const trail = ctx.get(AuditTrail);
  const at = trail.now();
  const started = Date.now();
  const note = (result: string, more: Partial<Audited> = {}) => audited && trail.record({ ...audited, ...more, at, face: 'cli', result, durationMs: Date.now() - started });
  try {
    const r = await fn(ctx);
    note('Success', describe?.(r));
    return r;
  } catch (e) {
    note(`Failed.${(e as Error).name ?? 'Error'}`);
    throw e;
  } finally {
    await ctx.close();
  }
}

/** A command's options as commander parsed them (`--secret-id` is `secretId`). */
type Options = Record<string, string | undefined>;

/**
 * One command: its words, its options (`--name <NAME>`; `required` ones are checked before
 * `run`, which gets them as strings), a one-line summary for the overview and help, and
 * `run`, which prints its result and returns the exit code (-1: keep running, as `serve`).
 */
interface CommandSpec {
  words: string;
  summary: string;
  required?: string[];
  optional?: string[];
  more?: string;
  run: (cfg: KmsConfig, o: Options) => Promise<number>;
}

const out = (v: unknown) => process.stdout.write(JSON.stringify(v, null, 2) + '\n');

const COMMANDS: CommandSpec[] = [
  {
    words: 'serve',
    summary: 'start the API (the registered faces)',
    run: async (cfg) => {
      // Required, not imported: the other commands never load the HTTP server.
      await (require('../server') as typeof import('../server')).serve(cfg);
      return -1;
    },
  },
  {
    words: 'account create',
    summary: 'create an account; prints {"Uin","SecretId","SecretKey"} once',
    required: ['--name <NAME>'],
    run: async (cfg, o) => {
      out(await withCore(cfg, (c) => c.get(AccountsService).createAccount(o.name!), { action: 'account create' }, (r) => ({ account: r.Uin, secretId: r.SecretId })));
      return 0;
    },
  },
  {
    words: 'account list',
    summary: 'list accounts as JSON',
    run: async (cfg) => {
      out((await withCore(cfg, (c) => c.get(AccountsService).listAccounts(), { action: 'account list' })).map((a) => ({ Uin: a.uin, Name: a.name, Status: a.status, CreateTime: a.createdAt })));
      return 0;
    },
  },
  ...(['disable', 'enable'] as const).map(
    (sub): CommandSpec => ({
      words: `account ${sub}`,
      summary: sub === 'disable' ? "stop every credential of the account, its sub-users' too" : 'undo account disable',
      required: ['--account <UIN>'],
      run: async (cfg, o) => {
        const status: Status = sub === 'disable' ? 'Disabled' : 'Active';
        await withCore(cfg, (c) => c.get(AccountsService).setAccountStatus(o.account!, status), { action: `account ${sub}`, account: o.account });
        out({ Uin: o.account, Status: status });
        return 0;
      },
    }),
  ),
  {
    words: 'account projects',
    summary: 'the account\'s project in each served region, as JSON [{"Region","ProjectId"}]',
    more: 'The ProjectId is the {project_id} of the REST face\'s URLs (32 lowercase hex, derived, stable).',
    required: ['--account <UIN>'],
    run: async (cfg, o) => {
      const regions = cfg.regions.map((r) => r.name);
      const list = await withCore(cfg, (c) => c.get(AccountsService).projects(o.account!, regions), { action: 'account projects', account: o.account });
      out(list.map((x) => ({ Region: x.region, ProjectId: x.projectId })));
      return 0;
    },
  },
  {
    words: 'credential create',
    summary: 'add an API key pair to an account; prints it once',
    required: ['--account <UIN>'],
    run: async (cfg, o) => {
      out(await withCore(cfg, (c) => c.get(AccountsService).createCredential(o.account!), { action: 'credential create', account: o.account }, (r) => ({ secretId: r.SecretId })));
      return 0;
    },
  },
  {
    words: 'credential list',
    summary: "the account's credentials, key pairs and access tokens, as JSON (never a SecretKey or token)",
    required: ['--account <UIN>'],
    run: async (cfg, o) => {
      const list = await withCore(cfg, (c) => c.get(AccountsService).listCredentials(o.account!), { action: 'credential list', account: o.account });
      out(list.map((x) => ({ SecretId: x.secretId, Kind: CREDENTIAL_KINDS[x.kind], SubUin: x.subUin, Status: x.status, CreatedAt: x.createdAt, LastUsedAt: x.lastUsedAt, ExpiresAt: x.expiresAt })));
      return 0;
    },
  },
  ...(['disable', 'enable'] as const).map(
    (sub): CommandSpec => ({
      words: `credential ${sub}`,
      summary: sub === 'disable' ? 'revoke a credential, key pair or access token (every instance applies it within a second)' : 'restore a disabled credential',
      required: ['--secret-id <ID>'],
      run: async (cfg, o) => {
        const status: Status = sub === 'disable' ? 'Disabled' : 'Active';
        await withCore(cfg, (c) => c.get(AccountsService).setCredentialStatus(o.secretId!, status), { action: `credential ${sub}`, secretId: o.secretId });
        out({ SecretId: o.secretId, Status: status });
        return 0;
      },
    }),
  ),
  {
    words: 'credential delete',
    summary: 'remove a credential, key pair or access token, for good',
    required: ['--secret-id <ID>'],
    run: async (cfg, o) => {
      await withCore(cfg, (c) => c.get(AccountsService).deleteCredential(o.secretId!), { action: 'credential delete', secretId: o.secretId });
      out({ SecretId: o.secretId, Deleted: true });
      return 0;
    },
  },
  {
    words: 'iam-token create',
    summary: 'an access token (X-Auth-Token) for the account or a sub-user, valid 24 hours; prints {"Token","ExpiresAt"} once',
    more: 'Its id (the part before the dot) is what the credential commands take.',
    required: ['--account <UIN>'],
    optional: ['--user <SUBUIN>'],
    run: async (cfg, o) => {
      const subUin = o.user ?? null;
      const t = await withCore(cfg, (c) => c.get(AccountsService).createAccessToken(o.account!, subUin), { action: 'iam-token create', account: o.account, subUser: subUin ?? undefined }, (r) => ({ secretId: r.tokenId }));
      out({ Token: t.token, ExpiresAt: new Date(t.expiresAt * 1000).toISOString() });
      return 0;
    },
  },
  {
    words: 'user create',
    summary: 'create a sub-user; prints {"SubUin","SecretId","SecretKey"} once',
    required: ['--account <UIN>', '--name <NAME>'],
    optional: ['--policy <FILE>'],
    run: async (cfg, o) => {
      const policy = o.policy === undefined ? undefined : readPolicy(o.policy);
      const u = await withCore(cfg, (c) => c.get(AccountsService).createUser(o.account!, o.name!, policy), { action: 'user create', account: o.account }, (r) => ({ subUser: r.SubUin, secretId: r.SecretId }));
      out({ SubUin: u.SubUin, Uin: u.Uin, SecretId: u.SecretId, SecretKey: u.SecretKey });
      return 0;
    },
  },
  {
    words: 'user set-policy',
    summary: "replace a sub-user's policy (takes effect within a second)",
    required: ['--user <SUBUIN>', '--policy <FILE>'],
    run: async (cfg, o) => {
      const policy = readPolicy(o.policy!);
      await withCore(cfg, (c) => c.get(AccountsService).setPolicy(o.user!, policy), { action: 'user set-policy', subUser: o.user });
      out({ SubUin: o.user, PolicyUpdated: true });
      return 0;
    },
  },
  {
    words: 'user delete',
    summary: 'delete a sub-user and its credentials',
    required: ['--user <SUBUIN>'],
    run: async (cfg, o) => {
      const n = await withCore(cfg, (c) => c.get(AccountsService).deleteUser(o.user!), { action: 'user delete', subUser: o.user });
      out({ SubUin: o.user, Deleted: true, CredentialsDeleted: n });
      return 0;
    },
  },
  {
    words: 'key create-default',
    summary: 'a default key for a service: callers use it, but cannot disable, delete, rename or re-describe it; outside the quota',
    required: ['--account <UIN>', '--region <REGION>', '--alias <SERVICE/default>'],
    optional: ['--description <TEXT>'],
    run: async (cfg, o) => {
      const k = await withCore(cfg, (c) => c.get(KeysService).createDefault(o.account!, o.region!, o.alias!, o.description), { action: 'key create-default', account: o.account }, (r) => ({ keys: r.keyId }));
      out({ KeyId: k.keyId, Uin: k.uin, Region: k.region, Alias: k.alias });
      return 0;
    },
  },
  {
    words: 'migrate',
    summary: 'create or upgrade the database schema and the token set-up',
    run: async (cfg) => {
      await withCore(cfg, () => Promise.resolve(), { action: 'migrate' });
      out({ migrated: true });
      return 0;
    },
  },
  {
    words: 'token audit',
    summary: 'every secret and private key on the token with its protection attributes (key-encryption keys with CKA_TRUSTED and whether the token enforces CKA_WRAP_WITH_TRUSTED)',
    run: async (cfg) => {
      out(await withCore(cfg, (c) => c.get<KeyStore>(KeyStore).audit(), { action: 'token audit' }));
      return 0;
    },
  },
  {
    words: 'token reconcile',
    summary: 'token objects the service made that no database row owns (a crash left them), as JSON {"Orphans","Removed","InFlight"}; --fix destroys them',
    optional: ['--fix'],
    run: async (cfg, o) => {
      out(await tokenReconcile(o.fix !== undefined, (fn, action, keys) => withCore(cfg, fn, { action }, (r) => ({ keys: keys(r) || undefined }))));
      return 0;
    },
  },
  {
    words: 'token migrate',
    summary: 'move existing CMK versions between the key storage modes (docs/key-storage.md); run again to resume',
    required: ['--to <wrapped|token>'],
    run: async (cfg, o) => {
      const to = storageMode(o.to!);
      out(await withCore(cfg, (c) => migrateStorage(c, to), { action: 'token migrate' }));
      return 0;
    },
  },
  {
    words: 'kek rotate',
    summary: 'a new key-encryption key for the region (needs the SO PIN), every wrapped CMK version rewrapped under it; resumable. --retire ends it: the old one destroyed',
    required: ['--region <REGION>'],
    optional: ['--retire'],
    run: async (cfg, o) => {
      out(await withCore(cfg, (c) => rotateKek(c, o.region!, o.retire !== undefined), { action: 'kek rotate' }));
      return 0;
    },
  },
  {
    words: 'audit verify',
    summary: 'check every audit chain and seal; exit 0 with a JSON summary, 1 naming the first broken record',
    run: async (cfg) => {
      const r = await withCore(cfg, (c) => c.get(AuditVerifier).verify());
      out(r);
      if (r.ok) return 0;
      process.stderr.write(`kms: audit trail broken at record ${r.writer}/${r.seq}: ${r.reason}\n`);
      return 1;
    },
  },
  {
    words: 'audit list',
    summary: 'audit records as JSON lines, newest first (default limit 100)',
    optional: ['--account <UIN>', '--key <KEYID>', '--action <NAME>', '--since <ISO>', '--until <ISO>', '--limit <N>'],
    run: async (cfg, o) => {
      if (o.limit !== undefined && !/^\d{1,6}$/.test(o.limit)) throw new UsageError(`--limit must be a number of records, got "${o.limit}"`);
      const q: AuditQuery = { account: o.account, keyId: o.key, action: o.action, since: isoTime(o.since, '--since'), until: isoTime(o.until, '--until'), limit: o.limit === undefined ? undefined : Number(o.limit) };
      for (const line of await withCore(cfg, (c) => c.get(AuditReader).list(q))) process.stdout.write(JSON.stringify(line) + '\n');
      return 0;
    },
  },
  {
    words: 'audit export',
    summary: 'every record since then as JSON lines, oldest first (for a SIEM)',
    required: ['--since <ISO>'],
    run: async (cfg, o) => {
      const since = isoTime(o.since, '--since')!;
      await withCore(cfg, async (c) => {
        for await (const line of c.get(AuditReader).export(since)) {
          if (!process.stdout.write(JSON.stringify(line) + '\n')) await new Promise((r) => process.stdout.once('drain', r));
        }
      });
      return 0;
    },
  },
];

/** `--name <NAME>` as the overview writes it: `--name NAME`, in brackets when optional. */
const usageOf = (flags: string, optional: boolean) => {
  const u = flags.replace(/<(.+)>/, '$1');
  return optional ? `[${u}]` : u;
};
const synopsis = (c: CommandSpec) => ['kms', c.words, ...(c.required ?? []).map((f) => usageOf(f, false)), ...(c.optional ?? []).map((f) => usageOf(f, true))].join(' ');

function wrap(text: string, width: number): string[] {
  const lines = [''];
  for (const word of text.split(' ')) {
    const last = lines[lines.length - 1];
    if (last && last.length + 1 + word.length > width) lines.push(word);
    else lines[lines.length - 1] = last ? `${last} ${word}` : word;
  }
  return lines;
}

/** The overview `kms`, `kms --help` and `kms help` print: every command with its options. */
function overview(): string {
  const lines = COMMANDS.map((c) => {
    const head = `  ${synopsis(c)}`;
    const summary = wrap(c.summary, 100 - 37).join(`\n${' '.repeat(37)}`);
    return head.length < 37 ? `${head.padEnd(37)}${summary}` : `${head}\n${' '.repeat(37)}${summary}`;
  });
  return `kms: a hardware-backed Key Management Service

Usage:
${lines.join('\n')}
${FILE_CRYPTO_HELP}  kms <command> --help               a command's options and what it prints
  kms --help                         this text

Configuration is read from the environment; see README.md (KMS_HOST, KMS_PORT, KMS_DATA_DIR,
KMS_DATABASE_URL, KMS_REGIONS, KMS_HSM_PROFILE, KMS_HSM_PIN, KMS_HSM_PIN_FILE, KMS_KEY_STORAGE,
KMS_HSM_SO_PIN_FILE, KMS_WORKERS, ...).
`;
}

/**
 * The command tree, parsed by commander: help per command (`kms user create --help`),
 * suggestions for mistyped commands and options, and the exit codes kept as they were:
 * 0 done, 1 the command failed, 2 the command line or the configuration is wrong.
 */
function program(done: (code: number) => void): Command {
  const root = new Command('kms')
    .exitOverride()
    .showSuggestionAfterError()
    .helpCommand(true)
    // Its errors are written by `main`, in the words and form of the other usage errors.
    .configureOutput({ outputError: () => undefined })
    .configureHelp({ formatHelp: (cmd, helper) => (cmd.parent ? new Help().formatHelp(cmd, helper) : overview()) });
  const groups = new Map<string, Command>();
  for (const spec of COMMANDS) {
    const words = spec.words.split(' ');
    let parent = root;
    for (const w of words.slice(0, -1)) {
      const key = `${parent.name()} ${w}`;
      if (!groups.has(key)) groups.set(key, parent.command(w).description(`kms ${w} <command>: see kms --help`));
      parent = groups.get(key)!;
    }
    const cmd = parent.command(words[words.length - 1]).summary(spec.summary).description(spec.more ? `${spec.summary}\n\n${spec.more}` : spec.summary);
    for (const f of spec.required ?? []) cmd.option(f, '(required)');
    for (const f of spec.optional ?? []) cmd.option(f);
    cmd.action(async (o: Options) => {
      // A value that is the next option (`--user --account 1`) is a value left out, as before commander.
      for (const opt of cmd.options) if (String(o[opt.attributeName()] ?? '').startsWith('--')) throw new UsageError(`missing ${opt.long}`);
      for (const f of spec.required ?? []) {
        const long = f.split(' ')[0];
        if (o[cmd.options.find((x) => x.long === long)!.attributeName()] === undefined) throw new UsageError(`missing ${long}`);
      }
      const cfg = loadConfig();
      Log.configure(cfg);
      if (!scrubEnv('KMS_HSM_PIN')) Log.warn('KMS_HSM_PIN could not be removed from /proc/self/environ; prefer KMS_HSM_PIN_FILE');
      if (!scrubEnv('KMS_HSM_SO_PIN')) Log.warn('KMS_HSM_SO_PIN could not be removed from /proc/self/environ; prefer KMS_HSM_SO_PIN_FILE');
      done(await spec.run(cfg, o));
    });
  }
  return root;
}

/** A usage error in the CLI's words: an option given without its value is `missing --name`, as when it is left out. */
function usageMessage(e: UsageError | CommanderError): string {
  const missing = e instanceof CommanderError && e.code === 'commander.optionMissingArgument' ? /'(--[\w-]+)/.exec(e.message) : null;
  return missing ? `missing ${missing[1]}` : e.message.replace(/^error: /, '');
}

export async function main(argv: string[]): Promise<number> {
  if (argv.length === 0) {
    process.stdout.write(overview());
    return 2;
  }
  // Client commands: they talk to a service over HTTP and need none of its configuration.
  if (argv[0] === 'encrypt' || argv[0] === 'decrypt') return fileCrypto(argv[0], argv.slice(1));
  let code = 0;
  try {
    await program((c) => (code = c)).parseAsync(argv, { from: 'user' });
    return code;
  } catch (e) {
    // Help asked for exits 0; anything commander refuses (unknown command or option, missing value) 2.
    if (e instanceof CommanderError && e.exitCode === 0) return 0;
    if (e instanceof CommanderError && e.code === 'commander.help') return 2; // a group without its command: its help is shown
    if (e instanceof UsageError || e instanceof CommanderError) {
      process.stderr.write(`kms: ${usageMessage(e)}\n\n${overview()}`);
      return 2;
    }
    if (e instanceof ConfigError) {
      process.stderr.write(`kms: ${e.message}\n`);
      return 2;
    }
    process.stderr.write(`kms: ${(e as Error).message}\n`);
    return 1;
  }
}

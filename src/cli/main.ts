import 'reflect-metadata';
import * as fs from 'node:fs';
import { INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { AccountsService, Status } from '../accounts/accounts.service';
import { AppModule } from '../app.module';
import { AuditReader, AuditQuery } from '../audit/audit-reader';
import { AuditEvent } from '../audit/audit-event';
import { AuditTrail } from '../audit/audit-trail';
import { AuditVerifier } from '../audit/audit-verifier';
import { scrubEnv } from '../common/environ';
import { Log } from '../common/logger';
import { ConfigError, KmsConfig, loadConfig } from '../config/config';
import { KeyStore } from '../hsm/key-store';
import { prepare } from '../prepare';
import { serve } from '../server';

const HELP = `kms: a hardware-backed Key Management Service

Usage:
  kms serve                          start the API (the registered faces)
  kms account create --name NAME     create an account; prints {"Uin","SecretId","SecretKey"} once
  kms account list                   list accounts as JSON
  kms account disable --account UIN  stop every credential of the account, its sub-users' too
  kms account enable --account UIN   undo account disable
  kms credential create --account UIN
                                     add an API key pair to an account; prints it once
  kms credential list --account UIN  the account's credentials as JSON (never the SecretKey)
  kms credential disable --secret-id ID
  kms credential enable --secret-id ID
  kms credential delete --secret-id ID
                                     revoke, restore or remove a credential (every instance
                                     applies it within a second)
  kms user create --account UIN --name NAME [--policy FILE]
                                     create a sub-user; prints {"SubUin","SecretId","SecretKey"} once
  kms user set-policy --user SUBUIN --policy FILE
                                     replace a sub-user's policy (takes effect within a second)
  kms user delete --user SUBUIN      delete a sub-user and its credentials
  kms migrate                        create or upgrade the database schema and the token set-up
  kms token audit                    every secret and private key on the token with its protection attributes
  kms audit verify                   check every audit chain and seal; exit 0 with a JSON summary,
                                     1 naming the first broken record
  kms audit list [--account UIN] [--key KEYID] [--action NAME] [--since ISO] [--until ISO] [--limit N]
                                     audit records as JSON lines, newest first (default limit 100)
  kms audit export --since ISO       every record since then as JSON lines, oldest first (for a SIEM)
  kms --help                         this text

Configuration is read from the environment; see README.md (KMS_HOST, KMS_PORT, KMS_DATA_DIR,
KMS_DATABASE_URL, KMS_REGIONS, KMS_HSM_PROFILE, KMS_HSM_PIN, KMS_HSM_PIN_FILE, KMS_WORKERS, ...).
`;

class UsageError extends Error {}

function readPolicy(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new UsageError(`cannot read the policy file ${file}: ${(e as Error).message}`);
  }
}

function flag(args: string[], name: string): string {
  const i = args.indexOf(name);
  if (i < 0 || i + 1 >= args.length || args[i + 1].startsWith('--')) throw new UsageError(`missing ${name}`);
  return args[i + 1];
}

function optional(args: string[], name: string): string | undefined {
  return args.includes(name) ? flag(args, name) : undefined;
}

function isoTime(args: string[], name: string): number | undefined {
  const v = optional(args, name);
  if (v === undefined) return undefined;
  const t = Date.parse(v);
  if (!/^\d{4}-\d{2}-\d{2}/.test(v) || Number.isNaN(t)) throw new UsageError(`${name} must be an ISO 8601 time, got "${v}"`);
  return t;
}

/** What the audit trail records of an operator command (face `cli`). */
type Audited = Pick<AuditEvent, 'action' | 'account' | 'subUser' | 'secretId'>;

/**
 * Runs `fn` on the core; with `audited`, the command is recorded, success or failure
 * (`describe` adds what only the result knows, such as a new account's UIN).
 */
async function withCore<T>(cfg: KmsConfig, fn: (ctx: INestApplicationContext) => Promise<T>, audited?: Audited, describe?: (r: T) => Partial<Audited>): Promise<T> {
  await prepare(cfg);
  const ctx = await NestFactory.createApplicationContext(AppModule.forRoot(cfg, false), { logger: ['error', 'warn'] });
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

export async function main(argv: string[]): Promise<number> {
  const [cmd, sub, ...rest] = argv;
  if (!cmd || cmd === '--help' || cmd === '-h' || cmd === 'help') {
    process.stdout.write(HELP);
    return cmd ? 0 : 2;
  }
  try {
    const cfg = loadConfig();
    Log.configure(cfg);
    if (!scrubEnv('KMS_HSM_PIN')) Log.warn('KMS_HSM_PIN could not be removed from /proc/self/environ; prefer KMS_HSM_PIN_FILE');
    const out = (v: unknown) => process.stdout.write(JSON.stringify(v, null, 2) + '\n');
    switch (`${cmd} ${sub ?? ''}`.trim()) {
      case 'serve':
        await serve(cfg);
        return -1;
      case 'migrate':
        await withCore(cfg, () => Promise.resolve(), { action: 'migrate' });
        out({ migrated: true });
        return 0;
      case 'account create': {
        const name = flag(rest, '--name');
        out(await withCore(cfg, (c) => c.get(AccountsService).createAccount(name), { action: 'account create' }, (r) => ({ account: r.Uin, secretId: r.SecretId })));
        return 0;
      }
      case 'account list':
        out((await withCore(cfg, (c) => c.get(AccountsService).listAccounts(), { action: 'account list' })).map((a) => ({ Uin: a.uin, Name: a.name, Status: a.status, CreateTime: a.createdAt })));
        return 0;
      case 'account disable':
      case 'account enable': {
        const uin = flag(rest, '--account');
        const status: Status = sub === 'disable' ? 'Disabled' : 'Active';
        await withCore(cfg, (c) => c.get(AccountsService).setAccountStatus(uin, status), { action: `account ${sub}`, account: uin });
        out({ Uin: uin, Status: status });
        return 0;
      }
      case 'credential create': {
        const uin = flag(rest, '--account');
        out(await withCore(cfg, (c) => c.get(AccountsService).createCredential(uin), { action: 'credential create', account: uin }, (r) => ({ secretId: r.SecretId })));
        return 0;
      }
      case 'credential list': {
        const uin = flag(rest, '--account');
        const list = await withCore(cfg, (c) => c.get(AccountsService).listCredentials(uin), { action: 'credential list', account: uin });
        out(list.map((x) => ({ SecretId: x.secretId, SubUin: x.subUin, Status: x.status, CreatedAt: x.createdAt, LastUsedAt: x.lastUsedAt })));
        return 0;
      }
      case 'credential disable':
      case 'credential enable': {
        const secretId = flag(rest, '--secret-id');
        const status: Status = sub === 'disable' ? 'Disabled' : 'Active';
        await withCore(cfg, (c) => c.get(AccountsService).setCredentialStatus(secretId, status), { action: `credential ${sub}`, secretId });
        out({ SecretId: secretId, Status: status });
        return 0;
      }
      case 'credential delete': {
        const secretId = flag(rest, '--secret-id');
        await withCore(cfg, (c) => c.get(AccountsService).deleteCredential(secretId), { action: 'credential delete', secretId });
        out({ SecretId: secretId, Deleted: true });
        return 0;
      }
      case 'user create': {
        const uin = flag(rest, '--account');
        const name = flag(rest, '--name');
        const policy = rest.includes('--policy') ? readPolicy(flag(rest, '--policy')) : undefined;
        const u = await withCore(cfg, (c) => c.get(AccountsService).createUser(uin, name, policy), { action: 'user create', account: uin }, (r) => ({ subUser: r.SubUin, secretId: r.SecretId }));
        out({ SubUin: u.SubUin, Uin: u.Uin, SecretId: u.SecretId, SecretKey: u.SecretKey });
        return 0;
      }
      case 'user set-policy': {
        const subUin = flag(rest, '--user');
        const policy = readPolicy(flag(rest, '--policy'));
        await withCore(cfg, (c) => c.get(AccountsService).setPolicy(subUin, policy), { action: 'user set-policy', subUser: subUin });
        out({ SubUin: subUin, PolicyUpdated: true });
        return 0;
      }
      case 'user delete': {
        const subUin = flag(rest, '--user');
        const n = await withCore(cfg, (c) => c.get(AccountsService).deleteUser(subUin), { action: 'user delete', subUser: subUin });
        out({ SubUin: subUin, Deleted: true, CredentialsDeleted: n });
        return 0;
      }
      case 'token audit':
        out(await withCore(cfg, (c) => c.get<KeyStore>(KeyStore).audit(), { action: 'token audit' }));
        return 0;
      case 'audit verify': {
        const r = await withCore(cfg, (c) => c.get(AuditVerifier).verify());
        out(r);
        if (r.ok) return 0;
        process.stderr.write(`kms: audit trail broken at record ${r.writer}/${r.seq}: ${r.reason}\n`);
        return 1;
      }
      case 'audit list': {
        const limit = optional(rest, '--limit');
        if (limit !== undefined && !/^\d{1,6}$/.test(limit)) throw new UsageError(`--limit must be a number of records, got "${limit}"`);
        const q: AuditQuery = { account: optional(rest, '--account'), keyId: optional(rest, '--key'), action: optional(rest, '--action'), since: isoTime(rest, '--since'), until: isoTime(rest, '--until'), limit: limit === undefined ? undefined : Number(limit) };
        for (const line of await withCore(cfg, (c) => c.get(AuditReader).list(q))) process.stdout.write(JSON.stringify(line) + '\n');
        return 0;
      }
      case 'audit export': {
        const since = isoTime(rest, '--since');
        if (since === undefined) throw new UsageError('missing --since');
        await withCore(cfg, async (c) => {
          for await (const line of c.get(AuditReader).export(since)) {
            if (!process.stdout.write(JSON.stringify(line) + '\n')) await new Promise((r) => process.stdout.once('drain', r));
          }
        });
        return 0;
      }
      default:
        throw new UsageError(`unknown command "${argv.join(' ')}"`);
    }
  } catch (e) {
    if (e instanceof UsageError || e instanceof ConfigError) {
      process.stderr.write(`kms: ${e.message}\n\n${HELP}`);
      return 2;
    }
    process.stderr.write(`kms: ${(e as Error).message}\n`);
    return 1;
  }
}

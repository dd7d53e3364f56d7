import 'reflect-metadata';
import * as fs from 'node:fs';
import { INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { AccountsService, Status } from '../accounts/accounts.service';
import { AppModule } from '../app.module';
import { scrubEnv } from '../common/environ';
import { Log } from '../common/logger';
import { ConfigError, KmsConfig, loadConfig } from '../config/config';
import { KeyStore } from '../hsm/key-store';
import { prepare } from '../prepare';
import { serve } from '../server';

const HELP = `kms: a hardware-backed Key Management Service

Usage:
  kms serve                          start the API (Tencent-compatible Action API on /)
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

async function withCore<T>(cfg: KmsConfig, fn: (ctx: INestApplicationContext) => Promise<T>): Promise<T> {
  await prepare(cfg);
  const ctx = await NestFactory.createApplicationContext(AppModule.forRoot(cfg, false), { logger: ['error', 'warn'] });
  try {
    return await fn(ctx);
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
        await prepare(cfg);
        out({ migrated: true });
        return 0;
      case 'account create': {
        const name = flag(rest, '--name');
        out(await withCore(cfg, (c) => c.get(AccountsService).createAccount(name)));
        return 0;
      }
      case 'account list':
        out((await withCore(cfg, (c) => c.get(AccountsService).listAccounts())).map((a) => ({ Uin: a.uin, Name: a.name, Status: a.status, CreateTime: a.createdAt })));
        return 0;
      case 'account disable':
      case 'account enable': {
        const uin = flag(rest, '--account');
        const status: Status = sub === 'disable' ? 'Disabled' : 'Active';
        await withCore(cfg, (c) => c.get(AccountsService).setAccountStatus(uin, status));
        out({ Uin: uin, Status: status });
        return 0;
      }
      case 'credential create': {
        const uin = flag(rest, '--account');
        out(await withCore(cfg, (c) => c.get(AccountsService).createCredential(uin)));
        return 0;
      }
      case 'credential list': {
        const uin = flag(rest, '--account');
        const list = await withCore(cfg, (c) => c.get(AccountsService).listCredentials(uin));
        out(list.map((x) => ({ SecretId: x.secretId, SubUin: x.subUin, Status: x.status, CreatedAt: x.createdAt, LastUsedAt: x.lastUsedAt })));
        return 0;
      }
      case 'credential disable':
      case 'credential enable': {
        const secretId = flag(rest, '--secret-id');
        const status: Status = sub === 'disable' ? 'Disabled' : 'Active';
        await withCore(cfg, (c) => c.get(AccountsService).setCredentialStatus(secretId, status));
        out({ SecretId: secretId, Status: status });
        return 0;
      }
      case 'credential delete': {
        const secretId = flag(rest, '--secret-id');
        await withCore(cfg, (c) => c.get(AccountsService).deleteCredential(secretId));
        out({ SecretId: secretId, Deleted: true });
        return 0;
      }
      case 'user create': {
        const uin = flag(rest, '--account');
        const name = flag(rest, '--name');
        const policy = rest.includes('--policy') ? readPolicy(flag(rest, '--policy')) : undefined;
        const u = await withCore(cfg, (c) => c.get(AccountsService).createUser(uin, name, policy));
        out({ SubUin: u.SubUin, Uin: u.Uin, SecretId: u.SecretId, SecretKey: u.SecretKey });
        return 0;
      }
      case 'user set-policy': {
        const subUin = flag(rest, '--user');
        const policy = readPolicy(flag(rest, '--policy'));
        await withCore(cfg, (c) => c.get(AccountsService).setPolicy(subUin, policy));
        out({ SubUin: subUin, PolicyUpdated: true });
        return 0;
      }
      case 'user delete': {
        const subUin = flag(rest, '--user');
        const n = await withCore(cfg, (c) => c.get(AccountsService).deleteUser(subUin));
        out({ SubUin: subUin, Deleted: true, CredentialsDeleted: n });
        return 0;
      }
      case 'token audit':
        out(await withCore(cfg, (c) => c.get<KeyStore>(KeyStore).audit()));
        return 0;
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

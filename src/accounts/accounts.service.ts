import { Inject, Injectable } from '@nestjs/common';
import * as crypto from 'node:crypto';
import { DataSource } from 'typeorm';
import { Clock } from '../common/clock';
import { ChangeFeed } from '../persistence/change-feed';
import { AccountEntity } from './account.entity';
import { CredentialEntity } from './credential.entity';
import { SecretSealer } from './secret-sealer';

export interface CachedCredential {
  secretId: string;
  uin: string;
  secretKey: string;
  active: boolean;
}

export interface NewCredential {
  Uin: string;
  SecretId: string;
  SecretKey: string;
}

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
function randomToken(len: number): string {
  // Rejection sampling keeps every character equally likely.
  let out = '';
  while (out.length < len) {
    for (const b of crypto.randomBytes(len * 2)) {
      if (b < 248 && out.length < len) out += ALPHABET[b % 62];
    }
  }
  return out;
}

export class AccountNotFoundError extends Error {}

/**
 * Accounts and their API credentials. Credentials are cached in memory (with the SecretKey
 * unsealed, as HMAC verification needs it) and dropped when the change feed says so;
 * unknown SecretIds are cached as misses until a credential with that id is created.
 */
@Injectable()
export class AccountsService {
  private readonly cache = new Map<string, CachedCredential | null>();
  private readonly loading = new Map<string, Promise<CachedCredential | null>>();
  /** Bumped on every invalidation: a load that straddles one must not fill the cache. */
  private epoch = 0;

  constructor(
    @Inject(DataSource) private readonly ds: DataSource,
    private readonly sealer: SecretSealer,
    private readonly feed: ChangeFeed,
    private readonly clock: Clock,
  ) {
    feed.on('credential', (id) => {
      this.epoch++;
      this.cache.delete(id);
    });
  }

  async createAccount(name: string): Promise<NewCredential> {
    if (!/^[\w.@-]{1,64}$/.test(name)) throw new Error('account name: 1-64 letters, digits, _ . @ -');
    for (;;) {
      const uin = '1' + crypto.randomInt(10 ** 10, 10 ** 11).toString();
      const exists = await this.ds.getRepository(AccountEntity).existsBy({ uin });
      if (exists) continue;
      await this.ds.getRepository(AccountEntity).insert({ uin, name, createdAt: this.clock.nowSeconds() });
      return this.createCredential(uin);
    }
  }

  async createCredential(uin: string): Promise<NewCredential> {
    if (!(await this.ds.getRepository(AccountEntity).existsBy({ uin }))) throw new AccountNotFoundError(`no account ${uin}`);
    const secretId = 'AKID' + randomToken(32);
    const secretKey = randomToken(32);
    const sealedSecret = await this.sealer.seal(secretId, secretKey);
    await this.ds.transaction(async (m) => {
      await m.insert(CredentialEntity, { secretId, uin, sealedSecret, status: 'Active', createdAt: this.clock.nowSeconds() });
      await this.feed.publish(m, 'credential', secretId);
    });
    return { Uin: uin, SecretId: secretId, SecretKey: secretKey };
  }

  async listAccounts(): Promise<AccountEntity[]> {
    return this.ds.getRepository(AccountEntity).find({ order: { createdAt: 'ASC' } });
  }

  /** The credential, or null if none has this id. Served from memory after the first call. */
  credential(secretId: string): Promise<CachedCredential | null> | CachedCredential | null {
    const hit = this.cache.get(secretId);
    if (hit !== undefined) return hit;
    let p = this.loading.get(secretId);
    if (!p) {
      p = this.load(secretId).finally(() => this.loading.delete(secretId));
      this.loading.set(secretId, p);
    }
    return p;
  }

  private async load(secretId: string): Promise<CachedCredential | null> {
    const epoch = this.epoch;
    const row = await this.ds.getRepository(CredentialEntity).findOneBy({ secretId });
    const value = row ? { secretId, uin: row.uin, secretKey: await this.sealer.unseal(secretId, row.sealedSecret), active: row.status === 'Active' } : null;
    // Bound the miss cache so random SecretIds cannot grow memory without limit.
    if (epoch === this.epoch && (value || this.cache.size < 100_000)) this.cache.set(secretId, value);
    return value;
  }
}

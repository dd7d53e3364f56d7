import { Inject, Injectable } from '@nestjs/common';
import * as crypto from 'node:crypto';
import { DataSource } from 'typeorm';
import { Clock } from '../common/clock';
import { ChangeFeed } from '../persistence/change-feed';
import { AccountEntity } from './account.entity';
import { CredentialEntity } from './credential.entity';
import { CredentialUsage } from './credential-usage';
import { POLICY_LANGUAGE, PolicyLanguage } from '../faces/face';
import { Policy } from './policy';
import { SecretSealer } from './secret-sealer';
import { UserEntity } from './user.entity';

export interface CachedCredential {
  secretId: string;
  uin: string;
  /** Set for a sub-user's credentials. */
  subUin: string | null;
  secretKey: string;
  /** The credential and its account are both active. */
  active: boolean;
  /** A sub-user's policy. */
  policy?: Policy;
  /** Keys a face derives from the SecretKey (per date and service, say): dropped with the credential. */
  derivedKeys: Map<string, Buffer>;
}

export type Status = 'Active' | 'Disabled';

/** What `credential list` shows of a credential: never its SecretKey. */
export interface CredentialInfo {
  secretId: string;
  subUin: string | null;
  status: Status;
  createdAt: number;
  lastUsedAt: number | null;
}

export interface NewCredential {
  Uin: string;
  SecretId: string;
  SecretKey: string;
}

export interface NewUser {
  Uin: string;
  SubUin: string;
  SecretId: string;
  SecretKey: string;
}

/** What a sub-user gets when created without a policy: nothing, until one is set. */

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
export class UserNotFoundError extends Error {}
export class CredentialNotFoundError extends Error {}

/**
 * Accounts and their API credentials. Credentials are cached in memory (with the SecretKey
 * unsealed, as HMAC verification needs it) and dropped when the change feed says so;
 * unknown SecretIds are cached as misses until a credential with that id is created.
 * Disabling or deleting a credential, deleting a sub-user and disabling an account go through
 * the change feed, so every process drops what it cached within a second.
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
    private readonly usage: CredentialUsage,
    @Inject(POLICY_LANGUAGE) private readonly policies: PolicyLanguage,
  ) {
    feed.on('credential', (id) => {
      this.invalidate();
      this.cache.delete(id);
    });
    // A policy change concerns every credential of that user; such changes are rare.
    feed.on('user', () => {
      this.invalidate();
      this.cache.clear();
    });
    feed.on('account', (uin) => {
      this.invalidate();
      for (const [id, c] of this.cache) if (c?.uin === uin) this.cache.delete(id);
    });
  }

  /**
   * A load under way may have read rows from before the change: it must not fill the cache
   * (the epoch), and later callers must not join it (a fresh load reads after the change).
   */
  private invalidate(): void {
    this.epoch++;
    this.loading.clear();
  }

  async createAccount(name: string): Promise<NewCredential> {
    checkName(name);
    const uin = await this.freshUin();
    await this.ds.getRepository(AccountEntity).insert({ uin, name, createdAt: this.clock.nowSeconds() });
    return this.createCredential(uin);
  }

  async createCredential(uin: string, subUin: string | null = null): Promise<NewCredential> {
    await this.requireAccount(uin);
    const secretId = 'AKID' + randomToken(32);
    const secretKey = randomToken(32);
    const sealedSecret = await this.sealer.seal(secretId, secretKey);
    await this.ds.transaction(async (m) => {
      await m.insert(CredentialEntity, { secretId, uin, subUin, sealedSecret, status: 'Active', createdAt: this.clock.nowSeconds() });
      await this.feed.publish(m, 'credential', secretId);
    });
    return { Uin: uin, SecretId: secretId, SecretKey: secretKey };
  }

  /** A sub-user of `uin` with its own key pair; its policy (default: none) says what it may do. */
  async createUser(uin: string, name: string, policyText = this.policies.empty): Promise<NewUser> {
    checkName(name);
    this.policies.parse(policyText, true);
    await this.requireAccount(uin);
    const subUin = await this.freshUin();
    await this.ds.getRepository(UserEntity).insert({ subUin, uin, name, policy: policyText, createdAt: this.clock.nowSeconds() });
    const cred = await this.createCredential(uin, subUin);
    return { Uin: uin, SubUin: subUin, SecretId: cred.SecretId, SecretKey: cred.SecretKey };
  }

  /** Replaces a sub-user's policy; every instance applies it within a second. */
  async setPolicy(subUin: string, policyText: string): Promise<void> {
    this.policies.parse(policyText, true);
    await this.ds.transaction(async (m) => {
      const r = await m.update(UserEntity, { subUin }, { policy: policyText });
      if (!r.affected) throw new UserNotFoundError(`no sub-user ${subUin}`);
      await this.feed.publish(m, 'user', subUin);
    });
  }

  /** Every credential of the account, its sub-users' included, oldest first. */
  async listCredentials(uin: string): Promise<CredentialInfo[]> {
    await this.requireAccount(uin);
    const rows = await this.ds.getRepository(CredentialEntity).find({ where: { uin }, order: { createdAt: 'ASC', secretId: 'ASC' } });
    return rows.map((r) => ({ secretId: r.secretId, subUin: r.subUin ?? null, status: r.status, createdAt: r.createdAt, lastUsedAt: r.lastUsedAt ?? null }));
  }

  /** A disabled credential answers as an unknown one, on every instance within a second. */
  async setCredentialStatus(secretId: string, status: Status): Promise<void> {
    await this.ds.transaction(async (m) => {
      const r = await m.update(CredentialEntity, { secretId }, { status });
      if (!r.affected) throw new CredentialNotFoundError(`no credential ${secretId}`);
      await this.feed.publish(m, 'credential', secretId);
    });
  }

  async deleteCredential(secretId: string): Promise<void> {
    await this.ds.transaction(async (m) => {
      const r = await m.delete(CredentialEntity, { secretId });
      if (!r.affected) throw new CredentialNotFoundError(`no credential ${secretId}`);
      await this.feed.publish(m, 'credential', secretId);
    });
  }

  /** Deletes a sub-user and every credential it has; returns how many credentials went. */
  async deleteUser(subUin: string): Promise<number> {
    return this.ds.transaction(async (m) => {
      if (!(await m.existsBy(UserEntity, { subUin }))) throw new UserNotFoundError(`no sub-user ${subUin}`);
      const creds = await m.findBy(CredentialEntity, { subUin });
      await m.delete(CredentialEntity, { subUin });
      await m.delete(UserEntity, { subUin });
      for (const c of creds) await this.feed.publish(m, 'credential', c.secretId);
      await this.feed.publish(m, 'user', subUin);
      return creds.length;
    });
  }

  /** While an account is disabled, none of its credentials works, its sub-users' included; each keeps its own status. */
  async setAccountStatus(uin: string, status: Status): Promise<void> {
    await this.ds.transaction(async (m) => {
      const r = await m.update(AccountEntity, { uin }, { status });
      if (!r.affected) throw new AccountNotFoundError(`no account ${uin}`);
      await this.feed.publish(m, 'account', uin);
    });
  }

  /** A request signed with this credential passed authentication (LastUsedAt, written in the background). */
  noteUse(secretId: string): void {
    this.usage.note(secretId);
  }

  private async requireAccount(uin: string): Promise<void> {
    if (!(await this.ds.getRepository(AccountEntity).existsBy({ uin }))) throw new AccountNotFoundError(`no account ${uin}`);
  }

  private async freshUin(): Promise<string> {
    for (;;) {
      const uin = '1' + crypto.randomInt(10 ** 10, 10 ** 11).toString();
      const taken = (await this.ds.getRepository(AccountEntity).existsBy({ uin })) || (await this.ds.getRepository(UserEntity).existsBy({ subUin: uin }));
      if (!taken) return uin;
    }
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
      const loaded = this.load(secretId).finally(() => this.loading.get(secretId) === loaded && this.loading.delete(secretId));
      this.loading.set(secretId, loaded);
      p = loaded;
    }
    return p;
  }

  private async load(secretId: string): Promise<CachedCredential | null> {
    const epoch = this.epoch;
    const row = await this.ds.getRepository(CredentialEntity).findOneBy({ secretId });
    let value: CachedCredential | null = null;
    if (row) {
      const account = await this.ds.getRepository(AccountEntity).findOneBy({ uin: row.uin });
      const active = row.status === 'Active' && account?.status === 'Active';
      // An inactive credential's SecretKey is never needed: it is refused before any signature check.
      const secretKey = active ? await this.sealer.unseal(secretId, row.sealedSecret) : '';
      value = { secretId, uin: row.uin, subUin: row.subUin, secretKey, active, derivedKeys: new Map() };
      if (row.subUin) {
        const user = await this.ds.getRepository(UserEntity).findOneBy({ subUin: row.subUin });
        // A user that vanished keeps its credentials but no rights.
        value.policy = user?.policy != null ? this.policies.parse(user.policy, false) : new Policy([]);
      }
    }
    // Bound the miss cache so random SecretIds cannot grow memory without limit.
    if (epoch === this.epoch && (value || this.cache.size < 100_000)) this.cache.set(secretId, value);
    return value;
  }
}

function checkName(name: string): void {
  if (!/^[\w.@-]{1,64}$/.test(name)) throw new Error('name: 1-64 letters, digits, _ . @ -');
}

import { Inject, Injectable } from '@nestjs/common';
import * as crypto from 'node:crypto';
import { DataSource, EntityManager } from 'typeorm';
import { Clock } from '../common/clock';
import { AccessTokenRefusedError } from '../common/domain-errors';
import { ChangeFeed } from '../persistence/change-feed';
import { credentialCache } from './credential-cache';
import { InvalidatedCache } from '../persistence/invalidated-cache';
import { ACCESS_TOKEN_ID_PREFIX, ACCESS_TOKEN_LIFETIME_SECONDS, accessTokenDigest, accessTokenMatches, formatAccessToken, parseAccessToken, storedDigest } from './access-token';
import { AccountEntity } from './account.entity';
import { CredentialEntity, CredentialKind } from './credential.entity';
import { CredentialUsage } from './credential-usage';
import { POLICY_LANGUAGE, PolicyLanguage } from '../faces/face';
import { Policy } from './policy';
import { Identity } from './principal';
import { projectIdOf } from './projects';
import { SECRET_ID_PREFIX, SECRET_ID_RANDOM_CHARS } from './secret-id';
import { SecretSealer } from './secret-sealer';
import { UserEntity } from './user.entity';

export interface CachedCredential {
  secretId: string;
  kind: CredentialKind;
  uin: string;
  /** Set for a sub-user's credentials. */
  subUin: string | null;
  /** A key pair's SecretKey; empty for an access token, or while inactive. */
  secretKey: string;
  /** An access token's secret digest (empty for key pairs). */
  secretDigest: Buffer;
  /** When an access token lapses (Clock seconds); null for key pairs. */
  expiresAt: number | null;
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
  kind: CredentialKind;
  subUin: string | null;
  status: Status;
  createdAt: number;
  lastUsedAt: number | null;
  expiresAt: number | null;
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

export interface NewAccessToken {
  /** The token's credential id (what the credential commands take); also the part of the token before the dot. */
  tokenId: string;
  /** The bearer token itself: shown once, never stored. */
  token: string;
  /** Clock seconds. */
  expiresAt: number;
}

/** Who a credential authenticates: what a face turns into the call's principal. */
export function identityOf(c: CachedCredential): Identity {
  return { uin: c.uin, callerUin: c.subUin ?? c.uin, secretId: c.secretId, policy: c.policy };
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

/** Credentials a process keeps in memory. */
const CREDENTIAL_CACHE_ENTRIES = 100_000;

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
  private readonly cache: InvalidatedCache<CachedCredential>;

  constructor(
    @Inject(DataSource) private readonly ds: DataSource,
    private readonly sealer: SecretSealer,
    private readonly feed: ChangeFeed,
    private readonly clock: Clock,
    private readonly usage: CredentialUsage,
    @Inject(POLICY_LANGUAGE) private readonly policies: PolicyLanguage,
  ) {
    this.cache = credentialCache((secretId) => this.load(secretId), feed, CREDENTIAL_CACHE_ENTRIES);
  }

  /** The credential cache's hit and miss counts, for the metrics. */
  cacheStats(): { hits: number; misses: number } {
    return { hits: this.cache.hits, misses: this.cache.misses };
  }

  async createAccount(name: string): Promise<NewCredential> {
    checkName(name);
    const uin = await this.freshUin();
    // One transaction with its first key pair: on SQLite a write outside `ds.transaction` would
    // join (and could be rolled back with) whatever transaction the process has open.
    return this.withKeyPair(uin, null, (m) => m.insert(AccountEntity, { uin, name, createdAt: this.clock.nowSeconds() }));
  }

  async createCredential(uin: string, subUin: string | null = null): Promise<NewCredential> {
    await this.requireAccount(uin);
    return this.withKeyPair(uin, subUin);
  }

  /** Issues a key pair for `uin` (and `subUin`), written in one transaction after `first`. */
  private async withKeyPair(uin: string, subUin: string | null, first?: (m: EntityManager) => Promise<unknown>): Promise<NewCredential> {
    const secretId = SECRET_ID_PREFIX + randomToken(SECRET_ID_RANDOM_CHARS);
    const secretKey = randomToken(32);
    const sealedSecret = await this.sealer.seal(secretId, secretKey);
    await this.ds.transaction(async (m) => {
      if (first) await first(m);
      await m.insert(CredentialEntity, { secretId, uin, subUin, sealedSecret, kind: 'key', status: 'Active', createdAt: this.clock.nowSeconds() });
      await this.feed.publish(m, 'credential', secretId);
    });
    return { Uin: uin, SecretId: secretId, SecretKey: secretKey };
  }

  /**
   * A bearer token for the account (or one of its sub-users, with that user's policy), valid
   * for ACCESS_TOKEN_LIFETIME_SECONDS. It is a credential row like a key pair, so the credential,
   * user and account commands revoke it; only its secret's digest is stored.
   */
  async createAccessToken(uin: string, subUin: string | null = null): Promise<NewAccessToken> {
    await this.requireAccount(uin);
    if (subUin !== null && !(await this.ds.getRepository(UserEntity).existsBy({ subUin, uin }))) throw new UserNotFoundError(`no sub-user ${subUin} in account ${uin}`);
    const tokenId = ACCESS_TOKEN_ID_PREFIX + randomToken(28);
    const secret = randomToken(43);
    const createdAt = this.clock.nowSeconds();
    const expiresAt = createdAt + ACCESS_TOKEN_LIFETIME_SECONDS;
    await this.ds.transaction(async (m) => {
      await m.insert(CredentialEntity, { secretId: tokenId, uin, subUin, sealedSecret: accessTokenDigest(secret), kind: 'token', status: 'Active', createdAt, expiresAt });
      // Drops a cached miss for this id on every instance.
      await this.feed.publish(m, 'credential', tokenId);
    });
    return { tokenId, token: formatAccessToken(tokenId, secret), expiresAt };
  }

  /**
   * Who an access token authenticates, or AccessTokenRefusedError saying why not. The secret
   * is checked (in constant time) before anything else about the token is told.
   */
  async verifyAccessToken(token: string): Promise<Identity> {
    const parsed = parseAccessToken(token);
    if (!parsed) throw new AccessTokenRefusedError('malformed');
    const c = await this.cache.get(parsed.id);
    if (!c || c.kind !== 'token' || !accessTokenMatches(parsed.secret, c.secretDigest)) throw new AccessTokenRefusedError('unknown');
    if (!c.active) throw new AccessTokenRefusedError('revoked');
    if (c.expiresAt === null || this.clock.nowSeconds() >= c.expiresAt) throw new AccessTokenRefusedError('expired');
    return identityOf(c);
  }

  /** A sub-user of `uin` with its own key pair; its policy (default: none) says what it may do. */
  async createUser(uin: string, name: string, policyText = this.policies.empty): Promise<NewUser> {
    checkName(name);
    this.policies.parse(policyText, true);
    await this.requireAccount(uin);
    const subUin = await this.freshUin();
    const cred = await this.withKeyPair(uin, subUin, (m) => m.insert(UserEntity, { subUin, uin, name, policy: policyText, createdAt: this.clock.nowSeconds() }));
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
    return rows.map((r) => ({ secretId: r.secretId, kind: r.kind, subUin: r.subUin ?? null, status: r.status, createdAt: r.createdAt, lastUsedAt: r.lastUsedAt ?? null, expiresAt: r.expiresAt ?? null }));
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

  /** The account's project in each of `regions`, in that order (ids derived, not stored). */
  async projects(uin: string, regions: readonly string[]): Promise<Array<{ region: string; projectId: string }>> {
    await this.requireAccount(uin);
    return regions.map((region) => ({ region, projectId: projectIdOf(uin, region) }));
  }

  async listAccounts(): Promise<AccountEntity[]> {
    return this.ds.getRepository(AccountEntity).find({ order: { createdAt: 'ASC' } });
  }

  /** The API key pair, or null if none has this id (access tokens included). Served from memory after the first call. */
  credential(secretId: string): Promise<CachedCredential | null> | CachedCredential | null {
    const c = this.cache.get(secretId);
    return c instanceof Promise ? c.then(keyPairOnly) : keyPairOnly(c);
  }

  private async load(secretId: string): Promise<CachedCredential | null> {
    const row = await this.ds.getRepository(CredentialEntity).findOneBy({ secretId });
    let value: CachedCredential | null = null;
    if (row) {
      const account = await this.ds.getRepository(AccountEntity).findOneBy({ uin: row.uin });
      const active = row.status === 'Active' && account?.status === 'Active';
      const kind = row.kind ?? 'key';
      // An inactive credential's SecretKey is never needed: it is refused before any signature check.
      const secretKey = active && kind === 'key' ? await this.sealer.unseal(secretId, row.sealedSecret) : '';
      const secretDigest = kind === 'token' ? storedDigest(row.sealedSecret) : Buffer.alloc(0);
      value = { secretId, kind, uin: row.uin, subUin: row.subUin, secretKey, secretDigest, expiresAt: row.expiresAt ?? null, active, derivedKeys: new Map() };
      if (row.subUin) {
        const user = await this.ds.getRepository(UserEntity).findOneBy({ subUin: row.subUin });
        // A user that vanished keeps its credentials but no rights.
        value.policy = user?.policy != null ? this.policies.parse(user.policy, false) : new Policy([]);
      }
    }
    return value;
  }
}

const keyPairOnly = (c: CachedCredential | null): CachedCredential | null => (c?.kind === 'key' ? c : null);

function checkName(name: string): void {
  if (!/^[\w.@-]{1,64}$/.test(name)) throw new Error('name: 1-64 letters, digits, _ . @ -');
}

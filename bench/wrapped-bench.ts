import 'reflect-metadata';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { DataSource } from 'typeorm';
import { AccountsService } from '../src/accounts/accounts.service';
import { AppModule } from '../src/app.module';
import { loadConfig } from '../src/config/config';
import { CryptoModule } from '../src/crypto/crypto.module';
import { CryptoService } from '../src/crypto/crypto.service';
import { KeyStore } from '../src/hsm/key-store';
import { WrappedMaterial } from '../src/hsm/wrapped-material';
import { KeyVersionEntity } from '../src/keys/key-version.entity';
import { KeyEntity } from '../src/keys/key.entity';
import { KeysService } from '../src/keys/keys.service';
import { prepare } from '../src/prepare';

/**
 * `npm run bench:wrapped`: wrapped key storage at scale, in one process through the core (no
 * HTTP: bench/encrypt-bench.ts measures that). BENCH_CMKS CMKs (default 1,000,000) are made
 * in wrapped mode on a fresh embedded SoftHSM token and SQLite database (KMS_DATABASE_URL for
 * PostgreSQL): each version's material is generated in the token and wrapped there by the
 * region's KEK through the key store, exactly as CreateKey does; the rows are inserted
 * BENCH_BATCH at a time, one transaction per batch, skipping CreateKey's per-call checks
 * (alias, quota), which would make a million API calls. Then Encrypt (1 KiB, through
 * CryptoService: key lookup, authorization, AAD, token) for BENCH_SECONDS with KeyIds drawn at
 * random from the first 100, 10,000 and all of them, each after a warm-up pass, with the LRU
 * of unwrapped keys at KMS_KEY_CACHE_ENTRIES (default 10,000: the 10,000-key working set
 * fits). Prints the creation time, Encrypt ops/s, the LRU hit rate and the mean cold unwrap.
 */

const CMKS = Number(process.env.BENCH_CMKS ?? 1_000_000);
const BATCH = Number(process.env.BENCH_BATCH ?? 1_000);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const REGION = 'ap-guangzhou';
const log = (s: string): void => void process.stdout.write(s + '\n');

@Module({})
class BenchModule {}

async function main(): Promise<void> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'kms-wrapped-bench-'));
  const cfg = loadConfig({ ...process.env, KMS_DATA_DIR: dataDir, KMS_KEY_STORAGE: 'wrapped', KMS_REGIONS: REGION, KMS_AUDIT: 'off', KMS_LOG_LEVEL: 'warn' });
  await prepare(cfg);
  const ctx = await NestFactory.createApplicationContext({ module: BenchModule, imports: [AppModule.forRoot(cfg, false), CryptoModule] }, { logger: ['error', 'warn'] });
  try {
    const uin = (await ctx.get(AccountsService).createAccount('bench')).Uin;
    // One CMK through CreateKey's core path: its row is the pattern of the others.
    const pattern = await ctx.get(KeysService).create({ uin, callerUin: uin, region: REGION, secretId: '', action: 'CreateKey' }, { alias: 'bench-pattern' });
    const keyIds = await createKeys(ctx.get<KeyStore>(KeyStore), ctx.get(DataSource), pattern);
    const cryptoService = ctx.get(CryptoService);
    const wrapped = ctx.get(WrappedMaterial);
    log(`\nEncrypt of 1 KiB through the core, ${SECONDS} s per set, LRU of ${cfg.keyCacheEntries} unwrapped keys`);
    log('keys       ops/s   LRU hit rate   cold unwraps   mean cold unwrap');
    const plaintext = crypto.randomBytes(1024);
    for (const n of [100, 10_000, CMKS].filter((n, i, all) => n <= CMKS && all.indexOf(n) === i)) {
      const set = keyIds.slice(0, n);
      const p = () => ({ uin, callerUin: uin, region: REGION, secretId: '', action: 'Encrypt' });
      // Warm-up: each key of the set once (the 1M case warms only what the cache can hold).
      for (const keyId of set.slice(-cfg.keyCacheEntries)) await cryptoService.encrypt(p(), keyId, plaintext);
      const before = wrapped.stats();
      let ops = 0;
      const until = process.hrtime.bigint() + BigInt(SECONDS * 1e9);
      const started = process.hrtime.bigint();
      while (process.hrtime.bigint() < until) {
        for (let i = 0; i < 100; i++) await cryptoService.encrypt(p(), set[crypto.randomInt(set.length)], plaintext);
        ops += 100;
      }
      const secs = Number(process.hrtime.bigint() - started) / 1e9;
      const after = wrapped.stats();
      const hits = after.hits - before.hits;
      const misses = after.misses - before.misses;
      const unwrapUs = misses ? (after.unwrapNs - before.unwrapNs) / misses / 1000 : 0;
      log(`${String(n).padEnd(9)} ${(ops / secs).toFixed(0).padStart(7)}   ${((100 * hits) / (hits + misses)).toFixed(1).padStart(11)} %   ${String(misses).padStart(12)}   ${misses ? `${unwrapUs.toFixed(0)} µs` : '-'}`);
    }
  } finally {
    await ctx.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

/** CMKS AES-256 CMKs like `pattern`, material made and wrapped in the token, rows inserted a batch per transaction. */
async function createKeys(store: KeyStore, ds: DataSource, pattern: KeyEntity): Promise<string[]> {
  log(`creating ${CMKS} CMKs in wrapped mode, ${BATCH} rows a transaction`);
  const keyIds: string[] = [];
  const started = Date.now();
  let tokenMs = 0;
  for (let done = 0; done < CMKS; ) {
    const keys: KeyEntity[] = [];
    const versions: KeyVersionEntity[] = [];
    const now = Math.floor(Date.now() / 1000);
    const t0 = Date.now();
    for (let i = 0; i < Math.min(BATCH, CMKS - done); i++) {
      const keyId = crypto.randomUUID();
      const id = crypto.randomUUID();
      const created = await store.createSecret({ id, region: REGION }, `cmk ${keyId} v1`, { family: 'aes', bytes: 32 });
      keys.push({ ...pattern, keyId, alias: `bench-${done + i}`, createdAt: now, updatedAt: now });
      versions.push({ id, keyId, version: 1, wrapped: created.wrapped!.toString('base64'), publicKey: null, createdAt: now });
      keyIds.push(keyId);
    }
    tokenMs += Date.now() - t0;
    await ds.transaction(async (m) => {
      // Without reading rows back (SQLite refuses a query that selects 1,000 of them by id).
      await m.createQueryBuilder().insert().into(KeyEntity).values(keys).updateEntity(false).execute();
      await m.createQueryBuilder().insert().into(KeyVersionEntity).values(versions).updateEntity(false).execute();
    });
    done += keys.length;
    if (done % (BATCH * 50) === 0 || done === CMKS) log(`  ${done} CMKs, ${((Date.now() - started) / 1000).toFixed(0)} s`);
  }
  const secs = (Date.now() - started) / 1000;
  log(`created ${CMKS} CMKs in ${secs.toFixed(1)} s (${(CMKS / secs).toFixed(0)}/s; generating and wrapping in the token ${(tokenMs / 1000).toFixed(1)} s, the rest the database)`);
  return keyIds;
}

main().catch((e: unknown) => {
  process.stderr.write(`${(e as Error).stack ?? e}\n`);
  process.exit(1);
});

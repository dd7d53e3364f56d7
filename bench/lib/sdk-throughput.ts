import * as crypto from 'node:crypto';
import { sm4 } from 'sm-crypto-v2';
import { ALGORITHMS, Suite } from '../../src/sdk/algorithms';
import { KeyManager } from '../../src/sdk/key-manager';
import { decrypt, encrypt } from '../../src/sdk/messages';

/**
 * The Encryption SDK's local speed per algorithm, with its data key cached (one
 * GenerateDataKey, then none): one-shot encrypt and decrypt of SDK_BENCH_BYTES in 64 KiB
 * frames, beside the same cipher called directly on the whole buffer (Node's OpenSSL; for
 * SM4-GCM, which Node lacks, sm-crypto-v2), plus HMAC-SM3 over it for the _WITH_SIGNATURE
 * algorithms. Both are checked: the SDK's round trip, and the raw cipher's against Node or
 * sm-crypto-v2 decrypting it.
 */

const MB = 1024 * 1024;
export const SDK_BENCH_BYTES = Number(process.env.SDK_BENCH_BYTES ?? 16 * MB);
const FRAME = 64 * 1024;

export interface SdkRow {
  algorithm: string;
  sdkEncryptMBs: number;
  sdkDecryptMBs: number;
  rawMBs: number;
}

const seconds = (fn: () => unknown): number => {
  const t0 = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - t0) / 1e9;
};

/** The cipher alone on the whole buffer (and HMAC-SM3 when the algorithm signs); checks a round trip. */
function raw(s: Suite, data: Buffer): number {
  const key = crypto.randomBytes(s.keyBytes);
  const iv = crypto.randomBytes(s.ivBytes);
  let out: Buffer = Buffer.alloc(0);
  let tag: Buffer = Buffer.alloc(0);
  const t = seconds(() => {
    if (s.cipher === 'sm4' && s.mode === 'gcm') {
      const r = sm4.encrypt(data, key, { mode: 'gcm', iv, output: 'array', outputTag: true });
      out = Buffer.from(r.output);
      tag = Buffer.from(r.tag!);
    } else {
      const c = crypto.createCipheriv(`${s.cipher}-${s.mode}`, key, s.mode === 'ecb' ? null : iv) as crypto.CipherGCM;
      out = Buffer.concat([c.update(data), c.final()]);
      if (s.mode === 'gcm') tag = c.getAuthTag();
    }
    if (s.signed) crypto.createHmac('sm3', key).update(out).digest();
  });
  const back = s.cipher === 'sm4' && s.mode === 'gcm' ? Buffer.from(sm4.decrypt(out, key, { mode: 'gcm', iv, tag, output: 'array' })) : (() => {
    const d = crypto.createDecipheriv(`${s.cipher}-${s.mode}`, key, s.mode === 'ecb' ? null : iv) as crypto.DecipherGCM;
    if (s.mode === 'gcm') d.setAuthTag(tag);
    return Buffer.concat([d.update(out), d.final()]);
  })();
  if (!back.equals(data)) throw new Error(`${s.name}: the raw cipher's round trip failed`);
  return data.length / MB / t;
}

async function timed<T>(fn: () => Promise<T>): Promise<[T, number]> {
  const t0 = process.hrtime.bigint();
  const r = await fn();
  return [r, Number(process.hrtime.bigint() - t0) / 1e9];
}

export async function sdkThroughput(km: KeyManager, log: (s: string) => void): Promise<SdkRow[]> {
  const data = crypto.randomBytes(SDK_BENCH_BYTES);
  const rows: SdkRow[] = [];
  log(`Encryption SDK, cached data key, ${(SDK_BENCH_BYTES / MB).toFixed(0)} MiB one-shot in ${FRAME / 1024} KiB frames, MB/s:`);
  log(`  ${'algorithm'.padEnd(28)} ${'encrypt'.padStart(8)} ${'decrypt'.padStart(8)} ${'raw'.padStart(8)}`);
  for (const s of ALGORITHMS) {
    // Warm-up: fills the encryption and decryption caches (the only KMS calls).
    await decrypt((await encrypt('warm-up', km, s.algorithm, '', FRAME)).ciphertext, km);
    const [enc, te] = await timed(() => encrypt(data, km, s.algorithm, '', FRAME));
    const [dec, td] = await timed(() => decrypt(enc.ciphertext, km));
    if (!dec.plaintext.equals(data)) throw new Error(`${s.name}: the SDK's round trip failed`);
    const row = { algorithm: s.name, sdkEncryptMBs: data.length / MB / te, sdkDecryptMBs: data.length / MB / td, rawMBs: raw(s, data) };
    rows.push(row);
    log(`  ${s.name.padEnd(28)} ${row.sdkEncryptMBs.toFixed(1).padStart(8)} ${row.sdkDecryptMBs.toFixed(1).padStart(8)} ${row.rawMBs.toFixed(1).padStart(8)}`);
  }
  return rows;
}

/** Runs it against a service the caller starts (the bench's startService) and stops. */
export async function sdkBench(start: () => Promise<{ endpoint: string; keyId: string; credential: { SecretId: string; SecretKey: string }; stop(): Promise<void> }>, log: (s: string) => void): Promise<{ rows: SdkRow[]; failures: string[] }> {
  const failures: string[] = [];
  let rows: SdkRow[] = [];
  let service: Awaited<ReturnType<typeof start>> | undefined;
  try {
    service = await start();
    const km = new KeyManager({ endpoint: `http://${service.endpoint}`, secretId: service.credential.SecretId, secretKey: service.credential.SecretKey, masterKeys: [{ region: 'ap-guangzhou', keyId: service.keyId }] });
    try {
      rows = await sdkThroughput(km, log);
    } finally {
      km.close();
    }
  } catch (e) {
    failures.push(`sdk: ${(e as Error).message}`);
    log(`  FAILED: ${(e as Error).message}`);
  } finally {
    await service?.stop();
  }
  return { rows, failures };
}

import { execFile } from 'node:child_process';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { Credential, KmsService } from './support/kms-service';
import { kmsClient } from './support/tencent-client';

/**
 * 1 GiB through `createEncryptStream` and straight into `createDecryptStream` (64 KiB frames,
 * AES_256_GCM: the fastest algorithm, so the test measures the SDK's memory, not SM4's speed),
 * in a process of its own whose peak RSS must stay under 200 MB: about 50 MB is Node itself; a
 * quiet machine measured 106-125 MB, a loaded CI machine (whose collector ran late) 176 MB
 * before the child's old generation was bounded.
 * Buffering that grew with the data would pass the bound within the first fifth of the GiB.
 * The data is generated on the fly and every decrypted byte checked against it.
 */

const run = promisify(execFile);
const GIB = 1024 * 1024 * 1024;
let kms: KmsService;
let cred: Credential;

beforeAll(async () => {
  kms = await KmsService.start();
  cred = await kms.createAccount('sdk-stream');
});
afterAll(async () => kms.stop());

it('streams 1 GiB in constant memory (peak RSS under 200 MB)', async () => {
  const { KeyId } = await kmsClient(kms.endpoint, cred).CreateKey({ Alias: 'sdk-stream' });
  const env = { ...process.env, KMS_ENDPOINT: `http://${kms.endpoint}`, KMS_SECRET_ID: cred.SecretId, KMS_SECRET_KEY: cred.SecretKey, KMS_REGION: 'ap-guangzhou', SDK_KEY_ID: KeyId!, SDK_STREAM_BYTES: String(GIB), SDK_ALGORITHM: 'AES_256_GCM' };
  // A bounded old generation makes the collector run on time on a loaded machine; buffering
  // that grew with the data would then fail the child with an out-of-memory error.
  const { stdout } = await run(process.execPath, ['--max-old-space-size=96', path.join(__dirname, 'support', 'sdk-stream-child.js')], { env, cwd: path.resolve(__dirname, '..') });
  const r = JSON.parse(stdout) as { ok: boolean; bytes: number; ms: number; maxRssMb: number };
  process.stdout.write(`1 GiB encrypt -> decrypt stream: ${r.ms} ms, peak RSS ${r.maxRssMb.toFixed(1)} MB\n`);
  expect(r).toMatchObject({ ok: true, bytes: GIB });
  expect(r.maxRssMb).toBeLessThan(200);
}, 600_000);

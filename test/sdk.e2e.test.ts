import { execFile } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Algorithm, BlockType, EncryptSDKError, KeyManager, KeyManagerOptions, createDecryptStream, createEncryptStream, decrypt, encrypt } from 'hsm-kms/sdk';
import { sql } from './support/audit-db';
import { Credential, KmsService } from './support/kms-service';
import { kmsClient } from './support/tencent-client';

/**
 * The Encryption SDK (`hsm-kms/sdk`) and `kms encrypt` / `kms decrypt` against the running
 * service: round trips of every algorithm and block size, failover to a backup master key,
 * the data-key cache counted in the audit trail's GenerateDataKey and Decrypt records,
 * tampering and a wrong context refused with the seed's codes, SDK <-> CLI interop, and the
 * package's `./sdk` subpath loaded as an installed application loads it.
 */

const ROOT = path.resolve(__dirname, '..');
const BIN = path.join(ROOT, 'bin', 'kms.js');
const exec = promisify(execFile);

let kms: KmsService;
let cred: Credential;
let endpoint: string;
const managers: KeyManager[] = [];
let tmp: string;

const G = 'ap-guangzhou';
const S = 'ap-shanghai';

async function newKey(region = G): Promise<string> {
  const { KeyId } = await kmsClient(kms.endpoint, cred, { region }).CreateKey({ Alias: `sdk-${crypto.randomBytes(6).toString('hex')}` });
  return KeyId!;
}

function manager(masterKeys: Array<{ region: string; keyId: string }>, more: Partial<KeyManagerOptions> = {}): KeyManager {
  const km = new KeyManager({ endpoint, secretId: cred.SecretId, secretKey: cred.SecretKey, masterKeys, ...more });
  managers.push(km);
  return km;
}

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'OK';
  } catch (e) {
    if (!(e instanceof EncryptSDKError)) throw e;
    return e.code;
  }
}

beforeAll(async () => {
  kms = await KmsService.start({ env: { KMS_RATE_LIMITS: 'GenerateDataKey=10000,Encrypt=10000,Decrypt=10000' } });
  cred = await kms.createAccount('sdk');
  endpoint = `http://${kms.endpoint}`;
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'kms-sdk-'));
});
afterAll(async () => {
  for (const m of managers) m.close();
  fs.rmSync(tmp, { recursive: true, force: true });
  await kms.stop();
});

const ALL = Object.values(Algorithm).filter((v): v is Algorithm => typeof v === 'number');
const CONTEXT = '{"name":"test","date":"20200228"}';

describe('round trips', () => {
  let km: KeyManager;
  let keyId: string;
  const data = crypto.randomBytes(2500);
  beforeAll(async () => {
    keyId = await newKey();
    km = manager([{ region: G, keyId }]);
  });

  it.each(ALL.map((a) => [Algorithm[a], a]))('%s: one-shot with block sizes 0, 1, 16, 1000, and streams', async (_name, algorithm) => {
    for (const blockSize of [0, 1, 16, 1000]) {
      const input = blockSize === 1 ? data.subarray(0, 40) : data;
      const { ciphertext, header } = await encrypt(input, km, algorithm, CONTEXT, blockSize);
      expect(header).toEqual({ algorithm, encryptionContext: CONTEXT, dataKeyNum: 1, dataKey: [{ cmkRegion: G, cmkKeyId: keyId, dataKey: expect.any(String) }], blockType: blockSize ? BlockType.WITH_BLOCK : BlockType.WITHOUT_BLOCK, blockLength: blockSize });
      const back = await decrypt(ciphertext, km);
      expect(back.plaintext.equals(input)).toBe(true);
      expect(back.header).toEqual(header);
      expect(back.masterKey).toEqual({ region: G, keyId });
    }
    // Streams: written in odd chunks, read back through a decrypt stream; 0 means 64 KiB frames.
    for (const blockSize of [0, 7]) {
      const enc = createEncryptStream(km, algorithm, CONTEXT, blockSize);
      const chunks: Buffer[] = [];
      enc.on('data', (c: Buffer) => chunks.push(c));
      await pipeline(Readable.from([data.subarray(0, 3), data.subarray(3, 2000), data.subarray(2000)]), enc);
      expect(enc.header).toMatchObject({ algorithm, blockType: BlockType.WITH_BLOCK, blockLength: blockSize || 65536 });
      const message = Buffer.concat(chunks);
      expect((await decrypt(message, km)).plaintext.equals(data)).toBe(true);
      const dec = createDecryptStream(km, { encryptionContext: CONTEXT });
      const out: Buffer[] = [];
      dec.on('data', (c: Buffer) => out.push(c));
      await pipeline(Readable.from([message.subarray(0, 10), message.subarray(10)]), dec);
      expect(Buffer.concat(out).equals(data)).toBe(true);
    }
  });

  it('an empty stream is a message too; an empty one-shot plaintext is refused, as in the seed', async () => {
    const enc = createEncryptStream(km, Algorithm.SM4_CBC_128_WITH_SIGNATURE);
    const chunks: Buffer[] = [];
    enc.on('data', (c: Buffer) => chunks.push(c));
    await pipeline(Readable.from([]), enc);
    expect((await decrypt(Buffer.concat(chunks), km)).plaintext).toHaveLength(0);
    expect(await codeOf(encrypt(Buffer.alloc(0), km, Algorithm.SM4_GCM_128))).toBe('InvalidParameter');
  });

  it('refuses bad arguments before calling the KMS', async () => {
    expect(await codeOf(encrypt('x', km, 99 as Algorithm))).toBe('CheckAlgorithmError');
    expect(() => createEncryptStream(km, 0 as Algorithm)).toThrow(expect.objectContaining({ code: 'CheckAlgorithmError' }));
    for (const ctx of ['not json', '[1]', '{"a":{"b":1}}', `{"a":"${'x'.repeat(1100)}"}`]) expect(await codeOf(encrypt('x', km, Algorithm.SM4_GCM_128, ctx))).toBe('InvalidParameter');
    for (const size of [-1, 1.5, 2 ** 27]) expect(await codeOf(encrypt('x', km, Algorithm.SM4_GCM_128, '', size))).toBe('InvalidParameter');
    expect(await codeOf(encrypt('x', {} as KeyManager, Algorithm.SM4_GCM_128))).toBe('InvalidParameter');
    expect(await codeOf(encrypt('x', manager([], { discovery: true }), Algorithm.SM4_GCM_128))).toBe('InvalidParameter');
    expect(() => manager(Array(6).fill({ region: G, keyId }))).toThrow(expect.objectContaining({ code: 'InvalidParameter' }));
    expect(() => manager([{ region: G, keyId }], { msgCount: -1 })).toThrow(expect.objectContaining({ code: 'InvalidParameter' }));
    expect(() => new KeyManager({ endpoint: 'ftp://x', secretId: 'a', secretKey: 'b', masterKeys: [] })).toThrow(expect.objectContaining({ code: 'InvalidParameter' }));
  });
});

describe('master keys and failover', () => {
  let primary: string;
  let backup: string;
  beforeAll(async () => {
    [primary, backup] = await Promise.all([newKey(G), newKey(S)]);
  });

  it('encrypts the data key under every master key; with the primary disabled the backup serves, and decrypts older messages', async () => {
    const both = await encrypt('hello world!', manager([{ region: G, keyId: primary }, { region: S, keyId: backup }]), Algorithm.SM4_CTR_128_WITH_SIGNATURE, CONTEXT);
    expect(both.header.dataKey.map((k) => [k.cmkRegion, k.cmkKeyId])).toEqual([[G, primary], [S, backup]]);
    expect(both.masterKey).toEqual({ region: G, keyId: primary });

    await kmsClient(kms.endpoint, cred).DisableKey({ KeyId: primary });
    try {
      const km = manager([{ region: G, keyId: primary }, { region: S, keyId: backup }]);
      const r = await encrypt('after the primary went down', km, Algorithm.SM4_GCM_128, CONTEXT);
      expect(r.masterKey).toEqual({ region: S, keyId: backup });
      expect(r.header.dataKeyNum).toBe(1);
      expect(r.skippedMasterKeys).toEqual([expect.objectContaining({ region: G, keyId: primary, code: 'ResourceUnavailable.CmkDisabled' })]);
      const back = await decrypt(both.ciphertext, km);
      expect([back.plaintext.toString(), back.masterKey]).toEqual(['hello world!', { region: S, keyId: backup }]);
      expect((await decrypt(r.ciphertext, km)).plaintext.toString()).toBe('after the primary went down');

      // With no usable master key left: GenerateDataKeyError, with the KMS code underneath.
      const e = await encrypt('x', manager([{ region: G, keyId: primary }]), Algorithm.SM4_GCM_128).catch((x: EncryptSDKError) => x);
      expect(e).toMatchObject({ code: 'GenerateDataKeyError', kmsCode: 'ResourceUnavailable.CmkDisabled', attempts: [expect.objectContaining({ keyId: primary })] });
    } finally {
      await kmsClient(kms.endpoint, cred).EnableKey({ KeyId: primary });
    }
    const e = await decrypt(both.ciphertext, manager([], { secretKey: 'wrong', discovery: true })).catch((x: EncryptSDKError) => x);
    expect(e).toMatchObject({ code: 'KmsAccessError' });
  });

  it('an unreachable service is KmsAccessError', async () => {
    const km = new KeyManager({ endpoint: 'http://127.0.0.1:1', secretId: cred.SecretId, secretKey: cred.SecretKey, masterKeys: [{ region: G, keyId: primary }], timeoutMs: 5000 });
    managers.push(km);
    expect(await codeOf(encrypt('x', km, Algorithm.SM4_GCM_128))).toBe('KmsAccessError');
  });
});

describe('the data-key cache, counted in the audit trail', () => {
  /** Records of `action` per key (plain SQL on the audit store: far cheaper than `kms audit list`). */
  async function counts(action: string, keyIds: string[]): Promise<number[]> {
    const rows = await sql<{ keys: string }>(kms.env, 'SELECT keys FROM audit_records WHERE action = $1', [action]);
    return keyIds.map((k) => rows.filter((r) => String(r.keys).includes(k)).length);
  }
  /** Records are written in batches every 200 ms: polls until the counts reach `want` (then they must match it). */
  async function settled(action: string, keyIds: string[], want: number[]): Promise<number[]> {
    const until = Date.now() + 10_000;
    for (;;) {
      const got = await counts(action, keyIds);
      if (got.every((n, i) => n >= want[i]) || Date.now() > until) return got;
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  it('msgCount, enExpireTime, the byte limit, the LRU capacity, one GenerateDataKey for concurrent misses, deExpireTime', async () => {
    const keys = await Promise.all(Array.from({ length: 7 }, () => newKey()));
    const [kMsg, kConcurrent, kBytes, kLru1, kLru2, kExpire, kDecrypt] = keys;
    const a = Algorithm.SM4_GCM_128;

    const byCount = manager([{ region: G, keyId: kMsg }], { msgCount: 3 });
    for (let i = 0; i < 7; i++) await encrypt(`m${i}`, byCount, a); // 3 + 3 + 1

    const concurrent = manager([{ region: G, keyId: kConcurrent }]);
    await Promise.all(Array.from({ length: 10 }, (_, i) => encrypt(`c${i}`, concurrent, a))); // 1

    const byBytes = manager([{ region: G, keyId: kBytes }], { maxBytesPerDataKey: 100 });
    for (let i = 0; i < 5; i++) await encrypt(Buffer.alloc(40, i), byBytes, a); // 40+40 | 40+40 | 40
    await encrypt(Buffer.alloc(150), byBytes, a); // over the limit alone: a key of its own, not cached

    const lru1 = manager([{ region: G, keyId: kLru1 }], { cacheCapacity: 1 });
    const lru2 = manager([{ region: G, keyId: kLru2 }], { cacheCapacity: 2 });
    for (const km of [lru1, lru2]) for (const ctx of ['{"t":"a"}', '{"t":"b"}', '{"t":"a"}', '{"t":"b"}']) await encrypt('x', km, a, ctx);

    const byTime = manager([{ region: G, keyId: kExpire }], { enExpireTime: 1 });
    await encrypt('1', byTime, a);
    await encrypt('2', byTime, a);
    await new Promise((r) => setTimeout(r, 1100));
    await encrypt('3', byTime, a);

    const one = await encrypt('to decrypt', manager([{ region: G, keyId: kDecrypt }]), a);
    const cached = manager([], { discovery: true });
    const uncached = manager([], { cacheCapacity: 0, discovery: true });
    for (let i = 0; i < 3; i++) {
      await decrypt(one.ciphertext, cached);
      await decrypt(one.ciphertext, uncached);
    }

    const want = [3, 1, 4, 4, 2, 2];
    expect(await settled('GenerateDataKey', [kMsg, kConcurrent, kBytes, kLru1, kLru2, kExpire], want)).toEqual(want);
    expect(await settled('Decrypt', [kDecrypt], [4])).toEqual([4]); // 1 cached + 3 uncached
  });
});

describe('tampering and contexts', () => {
  let km: KeyManager;
  beforeAll(async () => {
    km = manager([{ region: G, keyId: await newKey() }]);
  });

  /** Offsets in a message with one master key: header fields, then frames. */
  const layout = (m: Buffer) => {
    const ctxLen = m.readUInt16BE(28);
    let at = 30 + ctxLen + 1;
    at += 1 + m[at];
    at += 1 + m[at];
    at += 2 + m.readUInt16BE(at);
    return { messageId: 12, headerMac: at, firstFrame: at + 32 };
  };
  const flip = (m: Buffer, at: number) => {
    const x = Buffer.from(m);
    x[at] ^= 0x01;
    return x;
  };

  it('a changed header, body, signature or frame order is refused with the seed\'s codes', async () => {
    const data = crypto.randomBytes(100);
    const signed = (await encrypt(data, km, Algorithm.SM4_CBC_128_WITH_SIGNATURE, CONTEXT, 32)).ciphertext;
    const l = layout(signed);
    const frame = 9 + 16 + 48 + 32; // prefix, IV, one padded 32-byte block, HMAC-SM3
    expect(await codeOf(decrypt(flip(signed, l.messageId), km))).toBe('InvalidMessage');
    expect(await codeOf(decrypt(flip(signed, l.headerMac), km))).toBe('InvalidMessage');
    expect(await codeOf(decrypt(flip(signed, 11), km))).toBe('InvalidMessage'); // block length
    expect(await codeOf(decrypt(flip(signed, l.firstFrame + 9 + 16), km))).toBe('SignCheckFail'); // ciphertext
    expect(await codeOf(decrypt(flip(signed, l.firstFrame + frame - 1), km))).toBe('SignCheckFail'); // the signature itself
    expect(await codeOf(decrypt(signed.subarray(0, signed.length - 1), km))).toBe('InvalidMessage');
    expect(await codeOf(decrypt(signed.subarray(0, l.firstFrame + frame), km))).toBe('InvalidMessage'); // final frame gone
    expect(await codeOf(decrypt(Buffer.concat([signed, Buffer.from([0])]), km))).toBe('InvalidMessage');
    const swapped = Buffer.concat([signed.subarray(0, l.firstFrame), signed.subarray(l.firstFrame + frame, l.firstFrame + 2 * frame), signed.subarray(l.firstFrame, l.firstFrame + frame), signed.subarray(l.firstFrame + 2 * frame)]);
    expect(await codeOf(decrypt(swapped, km))).toBe('InvalidMessage');
    const unknownAlgorithm = Buffer.from(signed);
    unknownAlgorithm.writeUInt16BE(77, 5);
    expect(await codeOf(decrypt(unknownAlgorithm, km))).toBe('CheckAlgorithmError');
    expect(await codeOf(decrypt(crypto.randomBytes(200), km))).toBe('InvalidMessage');
    expect(await codeOf(decrypt(Buffer.alloc(0), km))).toBe('InvalidMessage');

    const gcm = (await encrypt(data, km, Algorithm.SM4_GCM_128, CONTEXT)).ciphertext;
    expect(await codeOf(decrypt(flip(gcm, layout(gcm).firstFrame + 9 + 12 + 5), km))).toBe('LocalDecryptError');
    const aes = (await encrypt(data, km, Algorithm.AES_256_GCM)).ciphertext;
    expect(await codeOf(decrypt(flip(aes, aes.length - 1), km))).toBe('LocalDecryptError'); // the tag
    // A context changed in the header: the KMS will not decrypt the data key under it.
    const ctx = Buffer.from(signed);
    ctx[30 + CONTEXT.indexOf('test')] = 'b'.charCodeAt(0);
    expect(await codeOf(decrypt(ctx, km))).toBe('DecryptDataKeyError');
  });

  it('a context other than the expected one is refused; order and spacing do not matter', async () => {
    const { ciphertext } = await encrypt('ctx', km, Algorithm.SM4_ECB_128, CONTEXT);
    expect(await codeOf(decrypt(ciphertext, km, { encryptionContext: '{"name":"other","date":"20200228"}' }))).toBe('InvalidParameter');
    expect(await codeOf(decrypt(ciphertext, km, { encryptionContext: '' }))).toBe('InvalidParameter');
    expect((await decrypt(ciphertext, km, { encryptionContext: '{ "date": "20200228", "name": "test" }' })).plaintext.toString()).toBe('ctx');
  });
});

describe('the CLI and the SDK', () => {
  let keyId: string;
  let backupId: string;
  const env = () => ({ ...process.env, KMS_ENDPOINT: endpoint, KMS_SECRET_ID: cred.SecretId, KMS_SECRET_KEY: cred.SecretKey, KMS_REGION: G });
  const cli = async (args: string[], stdin?: Buffer, extraEnv: Record<string, string> = {}): Promise<{ code: number; stdout: Buffer; stderr: string }> => {
    return new Promise((resolve) => {
      const child = execFile(process.execPath, [BIN, ...args], { env: { ...env(), ...extraEnv }, encoding: 'buffer', maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
        resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr: stderr.toString() });
      });
      child.stdin!.end(stdin ?? Buffer.alloc(0));
    });
  };
  beforeAll(async () => {
    [keyId, backupId] = await Promise.all([newKey(G), newKey(S)]);
  });

  it('SDK -> CLI and CLI -> SDK, files and stdin/stdout', async () => {
    const data = crypto.randomBytes(300_000);
    const km = manager([{ region: G, keyId }]);
    const plainFile = path.join(tmp, 'plain.bin');
    fs.writeFileSync(plainFile, data);

    // SDK encrypts, CLI decrypts (file to stdout, with the expected context).
    fs.writeFileSync(path.join(tmp, 'sdk.kmse'), (await encrypt(data, km, Algorithm.SM4_CBC_128_WITH_SIGNATURE, CONTEXT, 4096)).ciphertext);
    const d1 = await cli(['decrypt', '--in', path.join(tmp, 'sdk.kmse'), '--out', '-', '--context', CONTEXT]);
    expect([d1.code, d1.stderr]).toEqual([0, '']);
    expect(d1.stdout.equals(data)).toBe(true);

    // CLI encrypts (stdin, a backup, AES), the SDK decrypts; then the CLI decrypts it to a file.
    const e1 = await cli(['encrypt', '--key', keyId, '--backup', `${S}:${backupId}`, '--algorithm', 'AES_256_GCM', '--context', CONTEXT, '--block-size', '10000', '--in', '-', '--out', path.join(tmp, 'cli.kmse')], data);
    expect([e1.code, e1.stderr]).toEqual([0, '']);
    const back = await decrypt(fs.readFileSync(path.join(tmp, 'cli.kmse')), manager([], { discovery: true }));
    expect(back.plaintext.equals(data)).toBe(true);
    expect(back.header).toMatchObject({ algorithm: Algorithm.AES_256_GCM, encryptionContext: CONTEXT, dataKeyNum: 2, blockLength: 10000 });
    // Strict: only under the master key named.
    const d2 = await cli(['decrypt', '--key', keyId, '--in', path.join(tmp, 'cli.kmse'), '--out', path.join(tmp, 'out.bin')]);
    expect(d2.code).toBe(0);
    expect(fs.readFileSync(path.join(tmp, 'out.bin')).equals(data)).toBe(true);
    expect(fs.statSync(path.join(tmp, 'out.bin')).mode & 0o777).toBe(0o600);

    // Default algorithm, stdout: SM4_GCM_128.
    const e2 = await cli(['encrypt', '--key', keyId, '--in', plainFile, '--out', '-']);
    expect((await decrypt(e2.stdout, km)).header.algorithm).toBe(Algorithm.SM4_GCM_128);
  });

  it('exit codes name the SDK error; no output file is left behind on failure', async () => {
    const good = (await encrypt('secret', manager([{ region: G, keyId }]), Algorithm.SM4_GCM_128_WITH_SIGNATURE, CONTEXT)).ciphertext;
    const bad = Buffer.from(good);
    bad[bad.length - 1] ^= 1;
    const out = path.join(tmp, 'never.bin');
    const tampered = await cli(['decrypt', '--in', '-', '--out', out], bad);
    expect([tampered.code, tampered.stderr]).toEqual([5, expect.stringContaining('SignCheckFail')]);
    const wrongCtx = await cli(['decrypt', '--in', '-', '--out', out, '--context', '{"name":"x"}'], good);
    expect([wrongCtx.code, wrongCtx.stderr]).toEqual([2, expect.stringContaining('InvalidParameter')]);
    const strict = await cli(['decrypt', '--key', backupId, '--in', '-', '--out', out], good);
    expect([strict.code, strict.stderr]).toEqual([4, expect.stringContaining('DecryptDataKeyError: strict mode')]);
    const down = await cli(['decrypt', '--in', '-', '--out', out], good, { KMS_ENDPOINT: 'http://127.0.0.1:1' });
    expect([down.code, down.stderr]).toEqual([4, expect.stringContaining('KmsAccessError')]);
    const missing = await cli(['encrypt', '--key', keyId, '--in', path.join(tmp, 'nope'), '--out', out]);
    expect(missing.code).toBe(3);
    const unwritable = await cli(['encrypt', '--key', keyId, '--in', '-', '--out', path.join(tmp, 'no-such-folder', 'never.bin')], Buffer.from('x'));
    expect([unwritable.code, unwritable.stderr]).toEqual([3, expect.stringMatching(/cannot write .*never\.bin: ENOENT/)]);
    const usage = await cli(['encrypt', '--key', keyId, '--algorithm', 'ROT13', '--in', '-', '--out', out]);
    expect([usage.code, usage.stderr]).toEqual([2, expect.stringContaining('--algorithm must be one of')]);
    expect(fs.readdirSync(tmp).filter((f) => f.includes('never'))).toEqual([]);
  });
});

describe('the package subpath ./sdk, as an installed application loads it', () => {
  let app: string;
  beforeAll(() => {
    app = fs.mkdtempSync(path.join(os.tmpdir(), 'kms-sdk-app-'));
    fs.mkdirSync(path.join(app, 'node_modules'));
    fs.symlinkSync(ROOT, path.join(app, 'node_modules', 'hsm-kms'), 'dir');
  });
  afterAll(() => fs.rmSync(app, { recursive: true, force: true }));
  const node = (...args: string[]) => exec(process.execPath, args, { cwd: app }).then((r) => r.stdout.trim());
  const WANT = 'function function function 3 101 function true';
  const PROBE = `[typeof m.KeyManager, typeof m.encrypt, typeof m.createDecryptStream, m.Algorithm.SM4_GCM_128_WITH_SIGNATURE, m.Algorithm.AES_256_GCM, typeof m.sm4GcmEncrypt, new m.EncryptSDKError('InvalidMessage', 'x') instanceof Error].join(' ')`;

  it('with require and with import', async () => {
    expect(await node('-e', `const m = require('hsm-kms/sdk'); console.log(${PROBE})`)).toBe(WANT);
    expect(await node('--input-type=module', '-e', `import * as m from 'hsm-kms/sdk'; import { KeyManager } from 'hsm-kms/sdk'; console.log(${PROBE}, typeof KeyManager)`)).toBe(`${WANT} function`);
  });

  it('with its type declarations', async () => {
    expect(await node('-e', `const p = require.resolve('hsm-kms/sdk'); console.log(require('fs').existsSync(p.replace(/\\.js$/, '.d.ts')))`)).toBe('true');
  });
});

import * as crypto from 'node:crypto';
import huks from '../../src/client/huks';
import { REGION } from './constants';
import { removeDir, tempDir } from './cleanup';
import { BenchToken } from './softhsm';

/**
 * Streamed AES-256-GCM throughput: `bytes` pushed in `segment`-sized parts, through HUKS
 * sessions of the service (signed HTTP, one session at a time: initSession, updateSession per
 * segment, finishSession) and through the raw pkcs11js multi-part loop on a fresh token of the
 * same kind (C_EncryptInit, C_EncryptUpdate per segment, C_EncryptFinal). Both check their
 * output against Node's crypto once.
 */
export interface StreamResult {
  bytes: number;
  seconds: number;
  mbPerSec: number;
}

const MB = 1024 * 1024;

export function rawStream(bytes: number, segment: number): StreamResult {
  const dir = tempDir('raw-stream');
  const token = BenchToken.create(dir);
  try {
    const data = crypto.randomBytes(bytes);
    const iv = crypto.randomBytes(12);
    const aad = Buffer.from('bench-stream');
    const sealed = token.encryptInParts(iv, aad, data, segment);
    if (!token.decrypt(iv, aad, sealed).equals(data)) throw new Error('raw stream: AES-GCM round trip failed');
    const t0 = process.hrtime.bigint();
    token.encryptInParts(crypto.randomBytes(12), aad, data, segment);
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    return { bytes, seconds, mbPerSec: bytes / MB / seconds };
  } finally {
    token.close();
    removeDir(dir);
  }
}

interface Credential {
  SecretId: string;
  SecretKey: string;
}

/** Through the client library `hsm-kms/huks`, as an application streams. */
export async function serviceStream(endpoint: string, cred: Credential, bytes: number, segment: number): Promise<StreamResult> {
  huks.configure({ endpoint: `http://${endpoint}`, secretId: cred.SecretId, secretKey: cred.SecretKey, region: REGION });
  const key = crypto.randomBytes(32);
  const alias = `bench-stream-${Date.now()}`;
  const { HuksTag: T, HuksKeyAlg: ALG, HuksKeyPurpose: PURPOSE, HuksCipherMode: MODE } = huks;
  const aes: huks.HuksParam[] = [
    { tag: T.HUKS_TAG_ALGORITHM, value: ALG.HUKS_ALG_AES },
    { tag: T.HUKS_TAG_KEY_SIZE, value: 256 },
  ];
  await huks.importKeyItem(alias, { properties: [...aes, { tag: T.HUKS_TAG_PURPOSE, value: PURPOSE.HUKS_KEY_PURPOSE_ENCRYPT }], inData: new Uint8Array(key) });
  const data = crypto.randomBytes(bytes);
  const aad = Buffer.from('bench-stream');
  const encrypt = async (nonce: Buffer): Promise<Buffer> => {
    const properties: huks.HuksParam[] = [
      ...aes,
      { tag: T.HUKS_TAG_PURPOSE, value: PURPOSE.HUKS_KEY_PURPOSE_ENCRYPT },
      { tag: T.HUKS_TAG_BLOCK_MODE, value: MODE.HUKS_MODE_GCM },
      { tag: T.HUKS_TAG_NONCE, value: new Uint8Array(nonce) },
      { tag: T.HUKS_TAG_ASSOCIATED_DATA, value: new Uint8Array(aad) },
    ];
    const { handle } = await huks.initSession(alias, { properties });
    const out: Uint8Array[] = [];
    let at = 0;
    for (; at + segment < data.length; at += segment) out.push((await huks.updateSession(handle, { inData: data.subarray(at, at + segment) })).outData ?? new Uint8Array(0));
    out.push((await huks.finishSession(handle, { inData: data.subarray(at) })).outData ?? new Uint8Array(0));
    return Buffer.concat(out);
  };
  const nonce = crypto.randomBytes(12);
  const sealed = await encrypt(nonce);
  const c = crypto.createCipheriv('aes-256-gcm', key, nonce);
  c.setAAD(aad);
  if (!sealed.equals(Buffer.concat([c.update(data), c.final(), c.getAuthTag()]))) throw new Error('service stream: the output is not AES-256-GCM of the data');
  const t0 = process.hrtime.bigint();
  await encrypt(crypto.randomBytes(12));
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  return { bytes, seconds, mbPerSec: bytes / MB / seconds };
}

export const STREAM_BYTES = 64 * MB;
export const STREAM_SEGMENT = 64 * 1024;

export interface StreamRows {
  raw?: StreamResult;
  service?: StreamResult;
  failures: string[];
}

/**
 * Both streams, the service on `start()`'s instance (stopped after); logs one line each.
 * `start` gives the service's endpoint and credential (the bench's startService).
 */
export async function streamBench(start: () => Promise<{ endpoint: string; credential: Credential; stop(): Promise<void> }>, log: (s: string) => void): Promise<StreamRows> {
  const rows: StreamRows = { failures: [] };
  const line = (what: string, r: StreamResult) => log(`  ${what}: ${(r.bytes / MB).toFixed(0)} MiB in ${(STREAM_SEGMENT / 1024).toFixed(0)} KiB segments, ${r.seconds.toFixed(2)} s, ${r.mbPerSec.toFixed(1)} MB/s`);
  log(`streamed AES-256-GCM (HUKS sessions vs raw pkcs11js multi-part loop)`);
  try {
    rows.raw = rawStream(STREAM_BYTES, STREAM_SEGMENT);
    line('raw multi-part loop', rows.raw);
  } catch (e) {
    rows.failures.push(`raw stream: ${(e as Error).message}`);
  }
  let service: Awaited<ReturnType<typeof start>> | undefined;
  try {
    service = await start();
    rows.service = await serviceStream(service.endpoint, service.credential, STREAM_BYTES, STREAM_SEGMENT);
    line('service, HUKS session', rows.service);
    if (rows.raw) log(`  ratio service/raw: ${(rows.service.mbPerSec / rows.raw.mbPerSec).toFixed(2)}`);
  } catch (e) {
    rows.failures.push(`service stream: ${(e as Error).message}`);
  } finally {
    await service?.stop();
  }
  for (const f of rows.failures) log(`  FAILED: ${f}`);
  return rows;
}

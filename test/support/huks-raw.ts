import * as crypto from 'node:crypto';
import * as http from 'node:http';
import * as https from 'node:https';
import { Credential } from './kms-service';

/**
 * A small signed raw-HTTP caller of the HUKS face (docs/huks-protocol.md), written from the
 * document alone: KMS-HMAC-SHA256 over method, path with a trailing `/`, no query, the
 * signed headers and the body's SHA-256. Until the client library exists the face's tests
 * drive it with this.
 */
export interface HuksAnswer {
  status: number;
  body: Record<string, any>;
}

export const TAG = {
  ALGORITHM: 0x20000001,
  PURPOSE: 0x20000002,
  KEY_SIZE: 0x20000003,
  DIGEST: 0x20000004,
  PADDING: 0x20000005,
  BLOCK_MODE: 0x20000006,
  ASSOCIATED_DATA: 0x50000008,
  NONCE: 0x50000009,
  IV: 0x5000000a,
  AE_TAG: 0x50000000 + 10009,
} as const;

export type Prop = { tag: number; value: number | boolean | string | Buffer };

const kmsDate = (d = new Date()) => d.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');

export class HuksRaw {
  /** `tls`: call over HTTPS trusting this CA (and, for a test's non-loopback address, any name). */
  constructor(private readonly endpoint: string, private readonly cred: Credential, readonly region = 'ap-guangzhou', private readonly tls?: { ca: Buffer }) {}

  /** Sends `body` (an object, or raw text) to /huks/v1/<op>, signed unless `sign` is false. */
  async call(op: string, body: unknown, opts: { sign?: boolean; date?: Date; region?: string; mutate?: (h: Record<string, string>) => void; path?: string; method?: string } = {}): Promise<HuksAnswer> {
    const url = new URL(this.endpoint.includes('://') ? this.endpoint : `http://${this.endpoint}`);
    const path = opts.path ?? `/huks/v1/${op}`;
    const raw = Buffer.from(typeof body === 'string' ? body : JSON.stringify(body, (_k, v) => (v && v.type === 'Buffer' && Array.isArray(v.data) ? Buffer.from(v.data).toString('base64') : v)));
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      host: url.host,
      'x-kms-region': opts.region ?? this.region,
      'x-kms-date': kmsDate(opts.date),
    };
    if (opts.sign !== false) {
      const names = Object.keys(headers).sort();
      const canonical = [opts.method ?? 'POST', `${path}/`, '', names.map((n) => `${n}:${headers[n]}\n`).join(''), names.join(';'), crypto.createHash('sha256').update(raw).digest('hex')].join('\n');
      const toSign = ['KMS-HMAC-SHA256', headers['x-kms-date'], crypto.createHash('sha256').update(canonical).digest('hex')].join('\n');
      const sig = crypto.createHmac('sha256', this.cred.SecretKey).update(toSign).digest('hex');
      headers.authorization = `KMS-HMAC-SHA256 Access=${this.cred.SecretId}, SignedHeaders=${names.join(';')}, Signature=${sig}`;
    }
    opts.mutate?.(headers);
    return new Promise((resolve, reject) => {
      const options = { host: url.hostname, port: url.port, path, method: opts.method ?? 'POST', headers: { ...headers, 'content-length': String(raw.length) } };
      const onAnswer = (res: http.IncomingMessage) => {
        const chunks: Buffer[] = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          resolve({ status: res.statusCode ?? 0, body: text ? JSON.parse(text) : {} });
        });
      };
      const req = this.tls ? https.request({ ...options, ca: this.tls.ca, checkServerIdentity: () => undefined }, onAnswer) : http.request(options, onAnswer);
      req.on('error', reject);
      req.end(raw);
    });
  }

  /** The call's answer, or throws with the error's code as `code`. */
  async ok(op: string, body: Record<string, unknown>): Promise<Record<string, any>> {
    const r = await this.call(op, { ...body, nonce: crypto.randomUUID() });
    if (r.status !== 200) throw Object.assign(new Error(`${op}: ${r.status} ${JSON.stringify(r.body)}`), { code: r.body.error?.code, reason: r.body.error?.reason });
    return r.body;
  }

  /** The error code `op` answers (fails when it succeeds). */
  async code(op: string, body: Record<string, unknown>): Promise<number> {
    const r = await this.call(op, { ...body, nonce: crypto.randomUUID() });
    if (r.status === 200) throw new Error(`${op} succeeded: ${JSON.stringify(r.body)}`);
    return r.body.error.code;
  }

  generate(alias: string, properties: Prop[]) {
    return this.ok('generateKeyItem', { keyAlias: alias, options: { properties } });
  }
  import(alias: string, properties: Prop[], key: Buffer) {
    return this.ok('importKeyItem', { keyAlias: alias, options: { properties, inData: key.toString('base64') } });
  }
  async init(alias: string, properties: Prop[]): Promise<number> {
    return (await this.ok('initSession', { keyAlias: alias, options: { properties } })).handle;
  }
  async update(handle: number, inData: Buffer, properties: Prop[] = []): Promise<Buffer> {
    return Buffer.from((await this.ok('updateSession', { handle, options: { properties, inData: inData.toString('base64') } })).outData, 'base64');
  }
  async finish(handle: number, inData: Buffer, properties: Prop[] = []): Promise<Buffer> {
    return Buffer.from((await this.ok('finishSession', { handle, options: { properties, inData: inData.toString('base64') } })).outData, 'base64');
  }
  abort(handle: number) {
    return this.ok('abortSession', { handle, options: {} });
  }
}

/** Properties as JSON: BYTES values in base64. */
export const props = (...ps: Array<[number, number | boolean | Buffer]>): Prop[] => ps.map(([tag, value]) => ({ tag, value: Buffer.isBuffer(value) ? value.toString('base64') : value }));

export const aesProps = (size: number, purpose: number) => props([TAG.ALGORITHM, 20], [TAG.KEY_SIZE, size], [TAG.PURPOSE, purpose]);
export const gcmProps = (purpose: number, nonce: Buffer, aad: Buffer, size = 256) => [...aesProps(size, purpose), ...props([TAG.BLOCK_MODE, 32], [TAG.PADDING, 0], [TAG.NONCE, nonce], [TAG.ASSOCIATED_DATA, aad])];

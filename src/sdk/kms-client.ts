import * as http from 'node:http';
import * as https from 'node:https';
import * as net from 'node:net';
import { tc3Headers } from './tc3-signature';

/** The few Action API calls the SDK makes (GenerateDataKey, Encrypt, Decrypt), signed with TC3. */

export interface KmsConnection {
  /** `https://host:port` (or `http://` to a loopback service). */
  endpoint: string;
  secretId: string;
  secretKey: string;
  /** PEM certificate(s) of a private CA that signed the service's certificate. */
  ca?: string | Buffer | Array<string | Buffer>;
  /** Per call; 30 s by default. */
  timeoutMs?: number;
}

/** A call that failed: the service's error code, or `unreachable` when no answer came. */
export class KmsCallError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly unreachable: boolean,
    readonly requestId?: string,
  ) {
    super(message);
  }
}

type Json = Record<string, unknown>;

/** A URL's hostname that stays on this host: `localhost`, 127.0.0.0/8, `[::1]` (or ::ffff:127.x.x.x). */
export function isLoopbackHost(hostname: string): boolean {
  if (hostname === 'localhost') return true;
  const ip = hostname.replace(/^\[(.*)\]$/, '$1');
  if (net.isIPv4(ip)) return ip.startsWith('127.');
  const mapped = /^::ffff:([0-9a-f]{1,4}):[0-9a-f]{1,4}$/i.exec(ip);
  // WHATWG URL writes ::ffff:127.0.0.1 as [::ffff:7f00:1].
  return ip === '::1' || (mapped !== null && parseInt(mapped[1], 16) >> 8 === 127);
}

export class KmsClient {
  private readonly url: URL;
  private readonly agent: http.Agent;
  private readonly timeoutMs: number;

  constructor(private readonly conn: KmsConnection) {
    this.url = new URL(conn.endpoint);
    const tls = this.url.protocol === 'https:';
    this.agent = tls ? new https.Agent({ keepAlive: true, ...(conn.ca !== undefined ? { ca: conn.ca } : {}) }) : new http.Agent({ keepAlive: true });
    this.timeoutMs = conn.timeoutMs ?? 30_000;
  }

  close(): void {
    this.agent.destroy();
  }

  async generateDataKey(region: string, keyId: string, bytes: number, context: string): Promise<{ plaintext: Buffer; blob: string; keyId: string }> {
    const r = await this.call('GenerateDataKey', region, { KeyId: keyId, NumberOfBytes: bytes, ...ctx(context) });
    return { plaintext: base64Field(r, 'Plaintext'), blob: stringField(r, 'CiphertextBlob'), keyId: stringField(r, 'KeyId') };
  }

  async encrypt(region: string, keyId: string, plaintext: Buffer, context: string): Promise<{ blob: string; keyId: string }> {
    const r = await this.call('Encrypt', region, { KeyId: keyId, Plaintext: plaintext.toString('base64'), ...ctx(context) });
    return { blob: stringField(r, 'CiphertextBlob'), keyId: stringField(r, 'KeyId') };
  }

  async decrypt(region: string, blob: string, context: string): Promise<{ plaintext: Buffer; keyId: string }> {
    const r = await this.call('Decrypt', region, { CiphertextBlob: blob, ...ctx(context) });
    return { plaintext: base64Field(r, 'Plaintext'), keyId: stringField(r, 'KeyId') };
  }

  /** One signed call; a kept-alive connection closed before any answer is retried once on a new one. */
  call(action: string, region: string, params: Json, retried = false): Promise<Json> {
    const body = Buffer.from(JSON.stringify(params), 'utf8');
    const headers = { ...tc3Headers({ secretId: this.conn.secretId, secretKey: this.conn.secretKey, host: this.url.host, action, region, body, timestamp: Math.floor(Date.now() / 1000) }), 'Content-Length': String(body.length) };
    const lib = this.url.protocol === 'https:' ? https : http;
    const agent = retried ? new (lib === https ? https.Agent : http.Agent)({ keepAlive: false, ...(this.conn.ca !== undefined ? { ca: this.conn.ca } : {}) }) : this.agent;
    return new Promise<Json>((resolve, reject) => {
      const req = lib.request(new URL('/', this.url), { method: 'POST', headers, agent, timeout: this.timeoutMs }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', (e) => reject(unreachable(`the answer broke off: ${e.message}`)));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let answer: { Response?: Json & { Error?: { Code?: unknown; Message?: unknown }; RequestId?: unknown } };
          try {
            answer = JSON.parse(text);
          } catch {
            return reject(new KmsCallError('InvalidAnswer', `${action}: the service answered HTTP ${res.statusCode} with a body that is not JSON`, false));
          }
          const r = answer?.Response;
          const requestId = typeof r?.RequestId === 'string' ? r.RequestId : undefined;
          if (!r || typeof r !== 'object') return reject(new KmsCallError('InvalidAnswer', `${action}: the answer has no Response`, false, requestId));
          if (r.Error) return reject(new KmsCallError(String(r.Error.Code), `${action}: ${String(r.Error.Message)}`, false, requestId));
          resolve(r);
        });
      });
      req.on('timeout', () => req.destroy(unreachable(`${action}: no answer within ${this.timeoutMs / 1000} s`)));
      req.on('error', (e: NodeJS.ErrnoException) => {
        if (!retried && req.reusedSocket && (e.code === 'ECONNRESET' || e.code === 'EPIPE')) return resolve(this.call(action, region, params, true));
        reject(e instanceof KmsCallError ? e : unreachable(`cannot reach ${this.url.origin}: ${e.message}`));
      });
      req.end(body);
    });
  }
}

const unreachable = (message: string) => new KmsCallError('KmsAccessError', message, true);
const ctx = (context: string): Json => (context ? { EncryptionContext: context } : {});

function stringField(r: Json, name: string): string {
  const v = r[name];
  if (typeof v !== 'string' || v.length === 0) throw new KmsCallError('InvalidAnswer', `the answer has no ${name}`, false);
  return v;
}

function base64Field(r: Json, name: string): Buffer {
  return Buffer.from(stringField(r, name), 'base64');
}

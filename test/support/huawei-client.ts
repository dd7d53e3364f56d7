import { BasicCredentials } from '@huaweicloud/huaweicloud-sdk-core';
import { ClientBuilder } from '@huaweicloud/huaweicloud-sdk-core/ClientBuilder';
import { HcClient } from '@huaweicloud/huaweicloud-sdk-core/HcClient';
import { AKSKSigner } from '@huaweicloud/huaweicloud-sdk-core/auth/AKSKSigner';
import * as crypto from 'node:crypto';
import * as http from 'node:http';
import { projectIdOf } from '../../src/accounts/projects';
import { Credential } from './kms-service';

export type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/**
 * The vendor's SDK core (HcClient, unmodified, with its AK/SK signer), pointed at the test
 * service, calling the KMS endpoints by name under /v1.0/{project_id}/kms/. The project is the
 * credential's account's in `region` unless another is given.
 */
export class HuaweiClient {
  /** Called with every success's body (and the SDK's httpStatusCode), of every client. */
  static onAnswer?: (method: string, name: string, body: Json) => void;

  private constructor(private readonly hc: HcClient, readonly projectId: string) {}

  static of(endpoint: string, cred: Pick<Credential, 'Uin' | 'SecretId' | 'SecretKey'>, opts: { region?: string; projectId?: string } = {}): HuaweiClient {
    const projectId = opts.projectId ?? projectIdOf(cred.Uin, opts.region ?? 'ap-guangzhou');
    const credentials = new BasicCredentials().withAk(cred.SecretId).withSk(cred.SecretKey).withProjectId(projectId);
    const hc = new ClientBuilder((c: HcClient) => c).withCredential(credentials).withEndpoint(`http://${endpoint}`).build();
    // The SDK logs every error answer to stdout, with the request's headers; the tests expect many.
    const quiet = () => undefined;
    (hc as unknown as { httpClient: { _logger: unknown } }).httpClient._logger = { debug: quiet, info: quiet, warn: quiet, error: quiet };
    return new HuaweiClient(hc, projectId);
  }

  /** POST /v1.0/{project_id}/kms/<name> with a JSON body; rejects with the SDK's exception on an error. */
  post(name: string, data: Json = {}): Promise<Json> {
    return this.send('POST', name, { contentType: 'application/json', queryParams: {}, data });
  }

  /** DELETE /v1.0/{project_id}/kms/<name>, without a body. */
  delete(name: string): Promise<Json> {
    return this.send('DELETE', name, { contentType: undefined as unknown as string, queryParams: {} });
  }

  /** GET /v1.0/{project_id}/kms/<name>. */
  get(name: string, queryParams: Json = {}): Promise<Json> {
    return this.send('GET', name, { contentType: undefined as unknown as string, queryParams });
  }

  private async send(method: string, name: string, o: { contentType: string; queryParams: Json; data?: Json }): Promise<Json> {
    const body: Json = await this.hc.sendRequest({ method, url: `/v1.0/{project_id}/kms/${name}`, pathParams: {}, headers: {}, ...o });
    HuaweiClient.onAnswer?.(method, name, body);
    return body;
  }
}

/** What the SDK raised: the HTTP status and the code and message it read; or 'OK'. */
export interface Failure {
  status: number;
  code: string;
  msg: string;
}
export async function failureOf(p: Promise<unknown>): Promise<Failure | 'OK'> {
  try {
    await p;
    return 'OK';
  } catch (e) {
    const x = e as { httpStatusCode?: number; errorCode?: string; errorMsg?: string };
    if (!x.errorCode) throw e;
    return { status: Number(x.httpStatusCode), code: x.errorCode, msg: x.errorMsg ?? '' };
  }
}

/** `status code`, e.g. "400 KMS.0205", or 'OK'. */
export async function codeOf(p: Promise<unknown>): Promise<string> {
  const f = await failureOf(p);
  return f === 'OK' ? f : `${f.status} ${f.code}`;
}

export interface RawAnswer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Json;
}

/**
 * A request built by hand (any method, path, body and headers), signed by the SDK's own
 * AKSKSigner unless `unsigned`: for what the SDK cannot send (malformed JSON, oversized
 * bodies, unknown paths, tampered headers). The body is signed through X-Sdk-Content-Sha256
 * (its hash unless `headers` gives another value), as the signer allows for bodies it does not
 * serialize itself.
 */
export async function rawRequest(
  endpoint: string,
  cred: Pick<Credential, 'SecretId' | 'SecretKey'> | undefined,
  method: string,
  path: string,
  body: string | Buffer = '',
  opts: { headers?: Record<string, string>; afterSigning?: (h: Record<string, string>) => void; query?: Record<string, string>; sentQuery?: string } = {},
): Promise<RawAnswer> {
  const buf = Buffer.from(body);
  let headers: Record<string, string> = { 'content-type': 'application/json', ...(opts.headers ?? {}) };
  if (cred) {
    headers['X-Sdk-Content-Sha256'] ??= crypto.createHash('sha256').update(buf).digest('hex');
    const credentials = new BasicCredentials().withAk(cred.SecretId).withSk(cred.SecretKey);
    headers = AKSKSigner.sign({ endpoint: `http://${endpoint}${path}`, method, headers, queryParams: opts.query ?? {} } as never, credentials) as Record<string, string>;
  }
  opts.afterSigning?.(headers);
  // `sentQuery`: the query string sent, when it is not the one signed.
  const sent = opts.sentQuery ?? (opts.query ? new URLSearchParams(opts.query).toString() : '');
  const qs = sent ? `?${sent}` : '';
  const [host, port] = endpoint.split(':');
  return new Promise((resolve, reject) => {
    const req = http.request({ host, port: Number(port), method, path: path + qs, headers: { ...headers, 'content-length': String(buf.length) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString();
        resolve({ status: res.statusCode!, headers: res.headers, body: text ? (JSON.parse(text) as Json) : {} });
      });
    });
    req.on('error', reject);
    req.end(buf);
  });
}

/** A data key followed by its SHA-256 digest, in hex, as encrypt-datakey takes it. */
export const withDigest = (dataKey: Buffer): string => dataKey.toString('hex') + crypto.createHash('sha256').update(dataKey).digest('hex');

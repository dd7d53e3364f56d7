import cluster from 'node:cluster';
import * as crypto from 'node:crypto';
import * as path from 'node:path';
import { SMALLEST_CREDENTIAL, SMALLEST_KEY_ID } from '../lib/constants';
import { BenchToken, GCM_IV_BYTES } from '../lib/softhsm';
import { verify } from '../lib/tc3';
import { readBody, sendJson, serveChild, serveCluster } from './child-server';

/**
 * The smallest server that does what an Encrypt must: node:http, read the JSON body, verify
 * the TC3 signature, one AES-GCM call in a SoftHSM token (sync pkcs11js), answer in the
 * Tencent envelope. No database, no framework. BENCH_TOKEN_DIR: an empty folder for the token.
 * One process, or BENCH_PROCESSES > 1: a node:cluster of that many workers on one port
 * (BENCH_PORT), as the service runs its workers, each with a token of its own.
 */

const dir = process.env.BENCH_TOKEN_DIR;
if (!dir) throw new Error('BENCH_TOKEN_DIR is required');
const processes = Number(process.env.BENCH_PROCESSES ?? 1);

if (cluster.isPrimary && processes > 1) {
  serveCluster(processes, Number(process.env.BENCH_PORT), (i) => ({ BENCH_TOKEN_DIR: path.join(dir, `worker-${i}`), BENCH_PROCESSES: '1' }));
} else {
  serveSmallest(dir);
}

function serveSmallest(tokenDir: string): void {
  const token = BenchToken.create(tokenDir);
  const signingKeys = new Map<string, Buffer>();
  const secretKeyOf = (id: string): string | undefined => (id === SMALLEST_CREDENTIAL.SecretId ? SMALLEST_CREDENTIAL.SecretKey : undefined);
  const keyIdAad = Buffer.from(SMALLEST_KEY_ID);

  const answer = (body: Record<string, unknown>): string => JSON.stringify({ Response: { ...body, RequestId: crypto.randomUUID() } });
  const error = (code: string, message: string): string => answer({ Error: { Code: code, Message: message } });

  const encrypt = (method: string, url: string, headers: Record<string, string | string[] | undefined>, body: Buffer): string => {
    const auth = verify({ method, url, headers, body, nowSeconds: Math.floor(Date.now() / 1000), secretKeyOf, keys: signingKeys });
    if ('error' in auth) return error('AuthFailure.SignatureFailure', auth.error);
    if (headers['x-tc-action'] !== 'Encrypt') return error('InvalidAction', 'only Encrypt is served');
    let params: { KeyId?: unknown; Plaintext?: unknown };
    try {
      params = JSON.parse(body.toString('utf8')) as typeof params;
    } catch {
      return error('InvalidParameter', 'the body is not JSON');
    }
    if (params.KeyId !== SMALLEST_KEY_ID) return error('ResourceUnavailable.CmkNotFound', 'unknown KeyId');
    if (typeof params.Plaintext !== 'string') return error('MissingParameter', 'Plaintext is required');
    const plaintext = Buffer.from(params.Plaintext, 'base64');
    const iv = crypto.randomBytes(GCM_IV_BYTES);
    const sealed = token.encrypt(iv, keyIdAad, plaintext);
    return answer({ CiphertextBlob: Buffer.concat([iv, sealed]).toString('base64'), KeyId: SMALLEST_KEY_ID });
  };

  serveChild(
    (req, res) => {
      readBody(req).then(
        (body) => sendJson(res, encrypt(req.method ?? '', req.url ?? '/', req.headers, body)),
        () => res.destroy(),
      );
    },
    () => token.close(),
  );
}

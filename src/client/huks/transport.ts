import * as crypto from 'node:crypto';
import * as http from 'node:http';
import * as https from 'node:https';
import { BusinessError } from './business-error';
import { ResolvedConfig } from './config';
import { HuksExceptionErrCode } from './enums';
import { DATE_HEADER, authorization, signingDate } from './request-signature';

/** POSTs one signed operation of docs/huks-protocol.md and turns every failure into a BusinessError. */

const PREFIX = 'huks/v1/';
const TIMEOUT_MS = 60_000;

/** Keep-alive agents, one per endpoint and CA, so a stream of segments reuses its connections. */
const agents = new Map<string, http.Agent>();

function agentFor(cfg: ResolvedConfig): http.Agent {
  const key = `${cfg.url.origin}|${cfg.ca === undefined ? '' : crypto.createHash('sha256').update(JSON.stringify([cfg.ca].flat().map(String))).digest('hex')}`;
  let agent = agents.get(key);
  if (!agent) {
    agent = cfg.url.protocol === 'https:' ? new https.Agent({ keepAlive: true, ...(cfg.ca !== undefined ? { ca: cfg.ca } : {}) }) : new http.Agent({ keepAlive: true });
    agents.set(key, agent);
  }
  return agent;
}

/** A connection of its own, for the one call sent again (the pool may hold more closed ones). */
const freshAgent = (cfg: ResolvedConfig): http.Agent => (cfg.url.protocol === 'https:' ? new https.Agent({ keepAlive: false, ...(cfg.ca !== undefined ? { ca: cfg.ca } : {}) }) : new http.Agent({ keepAlive: false }));

type Json = Record<string, unknown>;

const IN_DATA = '"inData":"';

/**
 * The body's JSON, with `options.inData` (base64, which needs no escaping) copied in as bytes:
 * a segment through JSON.stringify and a UTF-8 encoding costs more than the rest of the call.
 * Any other `"inData":"` in the text would have its quotes escaped, so the first is the field.
 */
function encodeBody(body: Json): Buffer {
  const options = body.options as Json | undefined;
  if (typeof options?.inData !== 'string') return Buffer.from(JSON.stringify(body), 'utf8');
  const text = JSON.stringify({ ...body, options: { ...options, inData: '' } });
  const at = text.indexOf(IN_DATA) + IN_DATA.length;
  return Buffer.concat([Buffer.from(text.slice(0, at), 'utf8'), Buffer.from(options.inData, 'latin1'), Buffer.from(text.slice(at), 'utf8')]);
}

const communicationFailed = (detail: string): BusinessError => new BusinessError(HuksExceptionErrCode.HUKS_ERR_CODE_COMMUNICATION_FAIL, detail);

/** The service's error answer, or 12000015 when the answer is not one. */
function answerError(status: number, text: string, requestId: string | undefined): BusinessError {
  try {
    const e = (JSON.parse(text) as { error?: { code?: unknown; message?: unknown; reason?: unknown } }).error;
    if (e && typeof e.code === 'number') {
      return new BusinessError(e.code, typeof e.message === 'string' ? e.message : undefined, {
        ...(typeof e.reason === 'string' ? { reason: e.reason } : {}),
        ...(requestId ? { requestId } : {}),
      });
    }
  } catch {
    // Not JSON: fall through to the generic answer below.
  }
  return new BusinessError(HuksExceptionErrCode.HUKS_ERR_CODE_CALL_SERVICE_FAILED, `The service answered HTTP ${status} without a HUKS error.`, requestId ? { requestId } : {});
}

/**
 * One call. A kept-alive connection that the service closed meanwhile (a worker restarted, an
 * idle timeout) fails the request before any answer: that request is sent once more, signed
 * afresh, on a connection of its own (the pool may hold more closed ones), as Node's
 * documentation advises for reused sockets.
 */
export function call(cfg: ResolvedConfig, operation: string, body: Json, retried = false): Promise<Json> {
  const url = new URL(PREFIX + operation, cfg.url.href.endsWith('/') ? cfg.url.href : `${cfg.url.href}/`);
  // A random nonce keeps two identical calls in one second from sharing a signature (replays are refused).
  const payload = encodeBody({ ...body, nonce: crypto.randomBytes(16).toString('hex') });
  const signed: Record<string, string> = {
    'Content-Type': 'application/json',
    Host: url.host,
    'X-Kms-Region': cfg.region,
    [DATE_HEADER]: signingDate(new Date()),
  };
  const headers = { ...signed, Authorization: authorization(cfg.secretId, cfg.secretKey, url.pathname, signed, payload), 'Content-Length': String(payload.length) };
  const lib = url.protocol === 'https:' ? https : http;
  return new Promise<Json>((resolve, reject) => {
    const req = lib.request(url, { method: 'POST', headers, agent: retried ? freshAgent(cfg) : agentFor(cfg), timeout: TIMEOUT_MS }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', (e) => reject(communicationFailed(`The answer broke off: ${e.message}`)));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        const requestId = res.headers['x-request-id'] as string | undefined;
        const status = res.statusCode ?? 0;
        if (status < 200 || status >= 300) return reject(answerError(status, text, requestId));
        try {
          const parsed = JSON.parse(text) as unknown;
          if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('not an object');
          resolve(parsed as Json);
        } catch {
          reject(new BusinessError(HuksExceptionErrCode.HUKS_ERR_CODE_CALL_SERVICE_FAILED, 'The service answered a body that is not a JSON object.', requestId ? { requestId } : {}));
        }
      });
    });
    req.on('timeout', () => req.destroy(communicationFailed(`No answer within ${TIMEOUT_MS / 1000} s.`)));
    req.on('error', (e: NodeJS.ErrnoException) => {
      if (!retried && req.reusedSocket && (e.code === 'ECONNRESET' || e.code === 'EPIPE')) return resolve(call(cfg, operation, body, true));
      reject(e instanceof BusinessError ? e : communicationFailed(`Cannot reach ${url.origin}: ${e.message}`));
    });
    req.end(payload);
  });
}

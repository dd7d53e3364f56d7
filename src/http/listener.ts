import * as http from 'node:http';
import * as https from 'node:https';
import * as net from 'node:net';
import { Log } from '../common/logger';
import { KmsConfig, TlsFiles } from '../config/config';
import { readTlsOptions } from './tls-options';

/** Large enough for the documented 32 KB GET request. */
const MAX_HEADER_BYTES = 64 * 1024;
/**
 * Slow clients: the request line and headers must arrive within 10 s of the connection (or
 * of the previous response on a kept-alive one), the whole request within 30 s, and a TLS
 * handshake within 10 s. A connection with no byte either way for 2 minutes is closed
 * whatever its state.
 */
export const HEADERS_TIMEOUT_MS = 10_000;
export const REQUEST_TIMEOUT_MS = 30_000;
const TLS_HANDSHAKE_TIMEOUT_MS = 10_000;
const IDLE_TIMEOUT_MS = 120_000;
/** Longer than the 60 s idle timeout of common load balancers, so that the balancer closes first. */
const KEEP_ALIVE_TIMEOUT_MS = 65_000;
/** How often Node enforces the header and request timeouts; its default (30 s) would stretch them. */
const TIMEOUT_CHECK_INTERVAL_MS = 1_000;

export type Listener = http.Server | https.Server;

/** Refusal to serve plain HTTP beyond the loopback. */
export class PlaintextExposureError extends Error {}

const LOOPBACK = new net.BlockList();
LOOPBACK.addSubnet('127.0.0.0', 8, 'ipv4');
LOOPBACK.addAddress('::1', 'ipv6');
LOOPBACK.addSubnet('::ffff:127.0.0.0', 104, 'ipv6');

export function isLoopback(host: string): boolean {
  if (host === 'localhost') return true;
  const family = net.isIP(host);
  return family !== 0 && LOOPBACK.check(host, family === 4 ? 'ipv4' : 'ipv6');
}

/**
 * API keys, plaintexts and data keys cross the connection: without TLS, serve only on the
 * loopback, unless the operator insists (behind a TLS-terminating proxy on a trusted network).
 */
export function checkExposure(cfg: Pick<KmsConfig, 'host' | 'tls' | 'allowPlaintextHttp'>): void {
  if (cfg.tls || isLoopback(cfg.host)) return;
  if (!cfg.allowPlaintextHttp) {
    throw new PlaintextExposureError(
      `refusing to serve plain HTTP on ${cfg.host} (not a loopback address): API keys, plaintexts and data keys would cross the network in the clear. ` +
        'Set KMS_TLS_CERT_FILE and KMS_TLS_KEY_FILE to serve HTTPS, or KMS_HOST=127.0.0.1, or (behind a TLS-terminating proxy on a trusted network only) KMS_ALLOW_PLAINTEXT_HTTP=1',
    );
  }
  Log.warn(`PLAIN HTTP ON ${cfg.host} (KMS_ALLOW_PLAINTEXT_HTTP=1): API keys, plaintexts and data keys cross the network in the clear unless a TLS-terminating proxy on a trusted network is in front`);
}

function httpStatus(code: string | undefined): string | undefined {
  if (code === 'ERR_HTTP_REQUEST_TIMEOUT') return '408 Request Timeout';
  return code?.startsWith('HPE_') ? '400 Bad Request' : undefined;
}

const clientAuth = (files: TlsFiles): https.ServerOptions => (files.clientCaFile ? { requestCert: true, rejectUnauthorized: true } : {});

/** The HTTP or (with KMS_TLS_*) HTTPS server, with the slow-client timeouts and KMS_MAX_CONNECTIONS. */
export function createListener(cfg: KmsConfig, handler: http.RequestListener): Listener {
  const options: http.ServerOptions = {
    maxHeaderSize: MAX_HEADER_BYTES,
    headersTimeout: HEADERS_TIMEOUT_MS,
    requestTimeout: REQUEST_TIMEOUT_MS,
    keepAliveTimeout: KEEP_ALIVE_TIMEOUT_MS,
    connectionsCheckingInterval: TIMEOUT_CHECK_INTERVAL_MS,
  };
  const server = cfg.tls
    ? https.createServer({ ...options, ...readTlsOptions(cfg.tls), ...clientAuth(cfg.tls), handshakeTimeout: TLS_HANDSHAKE_TIMEOUT_MS }, handler)
    : http.createServer(options, handler);
  server.timeout = IDLE_TIMEOUT_MS;
  if (cfg.maxConnections) server.maxConnections = cfg.maxConnections;
  // Malformed or too slow HTTP never reaches the app: answer and close. Anything else (a
  // failed TLS handshake, a reset) has no HTTP answer: the socket is dropped at once.
  server.on('clientError', (err: NodeJS.ErrnoException, socket: net.Socket) => {
    const status = httpStatus(err.code);
    if (status && socket.writable) socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`, () => socket.destroy());
    else socket.destroy();
  });
  return server;
}

/**
 * SIGHUP: re-read the certificate, key and client CA. New connections get them; open ones
 * keep theirs. A file that cannot be used leaves the current ones in place.
 */
export function reloadTls(server: Listener, files: TlsFiles | undefined): void {
  if (!files || !(server instanceof https.Server)) {
    Log.info('SIGHUP: no TLS files to reload (plain HTTP)');
    return;
  }
  try {
    server.setSecureContext(readTlsOptions(files));
    Log.info('TLS certificate and key reloaded', { certFile: files.certFile });
  } catch (e) {
    Log.error('TLS files not reloaded; the previous certificate and key stay in use', { error: (e as Error).message });
  }
}

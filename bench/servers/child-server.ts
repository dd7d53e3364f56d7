import * as http from 'node:http';
import { LOOPBACK } from '../lib/constants';

/** What a child server tells the bench process over IPC once it listens. */
export interface ReadyMessage {
  ready: true;
  port: number;
}

export function readBody(req: http.IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

export function sendJson(res: http.ServerResponse, json: string): void {
  res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(json) });
  res.end(json);
}

/** Listens on a free loopback port, reports it to the parent, and exits on SIGTERM/SIGINT or when the parent goes. */
export function serveChild(handler: http.RequestListener, onStop: () => void = () => undefined): void {
  const server = http.createServer({ keepAliveTimeout: 65_000 }, handler);
  const stop = () => {
    server.close();
    server.closeAllConnections();
    try {
      onStop();
    } finally {
      process.exit(0);
    }
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  process.once('disconnect', stop);
  server.listen(0, LOOPBACK, () => {
    const msg: ReadyMessage = { ready: true, port: (server.address() as { port: number }).port };
    process.send?.(msg);
  });
}

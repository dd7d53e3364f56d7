import cluster from 'node:cluster';
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

/**
 * Listens on a loopback port (BENCH_PORT, or a free one), reports it to the parent (a cluster
 * worker: to its primary), and exits on SIGTERM/SIGINT or when the parent goes.
 */
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
  server.listen(Number(process.env.BENCH_PORT ?? 0), LOOPBACK, () => {
    const msg: ReadyMessage = { ready: true, port: (server.address() as { port: number }).port };
    process.send?.(msg);
  });
}

/**
 * In the primary of a server run as a cluster of `processes` workers (node:cluster, as the
 * service runs): forks them on one port, tells the bench once all listen, stops them with it.
 * `envOf(i)` gives worker i its own environment.
 */
export function serveCluster(processes: number, port: number, envOf: (i: number) => Record<string, string>): void {
  let ready = 0;
  for (let i = 0; i < processes; i++) {
    const w = cluster.fork({ ...envOf(i), BENCH_PORT: String(port) });
    w.once('message', (m: ReadyMessage) => {
      if (m?.ready && ++ready === processes) process.send?.({ ready: true, port } satisfies ReadyMessage);
    });
  }
  cluster.on('exit', (_w, code) => {
    if (code !== 0) process.exit(1);
  });
  const stop = () => {
    for (const w of Object.values(cluster.workers ?? {})) w?.process.kill('SIGTERM');
    cluster.on('exit', () => {
      if (Object.keys(cluster.workers ?? {}).length === 0) process.exit(0);
    });
    setTimeout(() => process.exit(0), 3000).unref();
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  process.once('disconnect', stop);
}

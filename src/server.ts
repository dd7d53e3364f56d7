import 'reflect-metadata';
import { ShutdownSignal } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ExpressAdapter } from '@nestjs/platform-express';
import cluster, { Worker } from 'node:cluster';
import * as http from 'node:http';
import express from 'express';
import { AppModule } from './app.module';
import { JobRunner } from './jobs/job-runner';
import { FACES } from './api/faces';
import { FaceHandler, faceRouter } from './faces/face';
import { ConsoleAssets, isConsolePath } from './console/console-assets';
import { Log, nestLog } from './common/logger';
import { KmsConfig } from './config/config';
import { prepare } from './prepare';
import { ClusterRateStorage } from './quotas/rate-limit-storage';
import { Listener, checkExposure, createListener, reloadTls } from './http/listener';
import { requestsInFlight } from './common/requests-in-flight';
import { readTlsOptions } from './http/tls-options';
import { answerSecretRequests, requestSecrets } from './worker-secrets';
import { serveClusterMetrics } from './metrics/metrics-cluster';
import { SiblingChanges } from './persistence/sibling-changes';

async function startWorker(cfg: KmsConfig): Promise<void> {
  // From the start, so that a SIGHUP meant for the certificate never kills a starting worker.
  let reloadable: Listener | undefined;
  process.on('SIGHUP', () => reloadable && reloadTls(reloadable, cfg.tls));
  if (cluster.isWorker) cfg = { ...cfg, ...(await requestSecrets()) };
  const expressApp = express();
  expressApp.disable('x-powered-by');
  expressApp.set('etag', false);
  const app = await NestFactory.create(AppModule.forRoot(cfg, true), new ExpressAdapter(expressApp), { bodyParser: false, logger: nestLog });
  // Not on SIGHUP: that one reloads the TLS files (the handler above).
  app.enableShutdownHooks(Object.values(ShutdownSignal).filter((sig) => sig !== ShutdownSignal.SIGHUP));
  app.get(JobRunner).enable();
  await app.init();
  // Operator endpoints (/_kms/...) go through Express and Nest; the console's files (/console/)
  // are served from memory; everything else goes to its face.
  const route = faceRouter<FaceHandler>(FACES.map((f) => ({ prefix: f.prefix, target: app.get(f.http().handler) })));
  const consoleAssets = ConsoleAssets.load();
  const server = createListener(cfg, (req, res) => {
    if (isConsolePath(req.url ?? '/')) return consoleAssets.handle(req, res);
    const face = req.url?.startsWith('/_kms/') ? undefined : route(req.url ?? '/');
    if (face) void requestsInFlight.track(face.handle(req, res));
    else expressApp(req, res);
  });
  reloadable = server;
  await new Promise<void>((resolve) => server.listen(cfg.port, cfg.host, resolve));
  const addr = server.address() as { port: number };
  const admin = cfg.admin && (await listenAdmin(cfg.admin, expressApp));
  Log.info('listening', { url: `${cfg.tls ? 'https' : 'http'}://${cfg.host}:${addr.port}/`, worker: cluster.isWorker ? cluster.worker?.id : 0, ...(cfg.admin && { admin: `http://${cfg.admin.host}:${cfg.admin.port}/_kms/` }) });
  if (cluster.isWorker) process.send!({ kms: 'ready' });
  const stop = async () => {
    admin?.close();
    admin?.closeAllConnections();
    server.close();
    server.closeAllConnections();
    await app.close();
    process.exit(0);
  };
  process.once('SIGTERM', () => void stop());
  process.once('SIGINT', () => void stop());
}

/**
 * KMS_ADMIN_PORT: plain HTTP, operator endpoints only (metrics, health, readiness); each
 * worker listens, the cluster shares the port as it does the API's.
 */
async function listenAdmin(admin: NonNullable<KmsConfig['admin']>, app: http.RequestListener): Promise<http.Server> {
  const server = http.createServer({ headersTimeout: 10_000, requestTimeout: 30_000 }, (req, res) => {
    if (req.url?.startsWith('/_kms/')) return void app(req, res);
    res.writeHead(404, { 'Content-Type': 'application/json' }).end('{"error":"the admin port serves /_kms/metrics, /_kms/health and /_kms/ready"}');
  });
  server.maxConnections = 64;
  await new Promise<void>((resolve) => server.listen(admin.port, admin.host, resolve));
  return server;
}

/** A worker that died is replaced after this long; while replacements fail to start, twice as long each time, up to RESTART_MAX_MS. */
const RESTART_FIRST_MS = 1000;
const RESTART_MAX_MS = 30_000;

/**
 * `kms serve`: the primary prepares the token and the database once, then runs KMS_WORKERS
 * workers (Node cluster) that share the port, the token and the database.
 */
export async function serve(cfg: KmsConfig): Promise<void> {
  if (cluster.isWorker) return startWorker(cfg);
  // The certificate and key are read by each worker: SIGHUP reloads them in every one that
  // serves. One still starting reads them as it starts, and has no handler yet to survive it.
  const ready = new Set<number>();
  process.on('SIGHUP', () => {
    for (const w of Object.values(cluster.workers ?? {})) if (w && ready.has(w.id)) w.process.kill('SIGHUP');
  });
  // Checked first, so that an unsafe or broken listener never starts.
  checkExposure(cfg);
  if (cfg.tls) readTlsOptions(cfg.tls);
  await prepare(cfg);
  if (!cfg.rateLimits.enabled) Log.warn('RATE LIMITS ARE OFF (KMS_RATE_LIMITS=off): every account may call every action without limit; use this for benchmarks only');
  if (cfg.audit.mode === 'off') Log.warn('THE AUDIT TRAIL IS OFF (KMS_AUDIT=off): no call is recorded');
  if (process.env.KMS_TEST_CLOCK_FILE) Log.warn('KMS_TEST_CLOCK_FILE is set: key lifecycles follow a test clock; never use this in production');
  if (cfg.workers === 1) return startWorker(cfg);
  for (const f of FACES) f.servePrimary?.(cfg); // state the faces share between workers
  // The primary keeps the rate counters of all workers (with Redis, while Redis is away).
  if (cfg.rateLimits.enabled) ClusterRateStorage.serve();
  // The PIN reaches workers over IPC, not through the environment they would inherit.
  answerSecretRequests({ hsmPin: cfg.hsmPin });
  // A scrape reaching any worker shows every serving worker's metrics, merged here.
  const serving = () => Object.values(cluster.workers ?? {}).filter((w): w is Worker => w !== undefined && ready.has(w.id));
  serveClusterMetrics(serving);
  // A write is answered once the other workers have dropped what it changed from their caches.
  SiblingChanges.serve(serving);
  Log.info('starting workers', { workers: cfg.workers });
  let stopping = false;
  // Whether any worker has served: until then a worker that dies is a start-up error.
  let served = false;
  let restartMs = RESTART_FIRST_MS;
  const fork = () => cluster.fork();
  cluster.on('message', (w, m: { kms?: string }) => {
    if (m?.kms !== 'ready') return;
    ready.add(w.id);
    served = true;
    restartMs = RESTART_FIRST_MS;
  });
  for (let i = 0; i < cfg.workers; i++) fork();
  cluster.on('exit', (w, code, signal) => {
    if (stopping) return;
    // Before any worker served, a start-up error (configuration, token, database) would only
    // repeat: stop rather than loop.
    if (!served) {
      Log.error('a worker failed to start; stopping', { pid: w.process.pid, code, signal });
      stopping = true;
      for (const other of Object.values(cluster.workers ?? {})) other?.process.kill('SIGTERM');
      setTimeout(() => process.exit(1), 2000).unref();
      return;
    }
    // Once the service has served, what stops a new worker from starting is passing (the
    // database or the token away): the others serve on, and the replacement is tried again,
    // less and less often.
    const failedToStart = !ready.has(w.id);
    Log.error(failedToStart ? 'a new worker failed to start; trying again' : 'worker exited; starting another', { pid: w.process.pid, code, signal, inMs: restartMs });
    setTimeout(fork, restartMs);
    if (failedToStart) restartMs = Math.min(restartMs * 2, RESTART_MAX_MS);
  });
  const stop = () => {
    stopping = true;
    for (const w of Object.values(cluster.workers ?? {})) w?.process.kill('SIGTERM');
    setTimeout(() => process.exit(0), 5000).unref();
    cluster.on('exit', () => {
      if (Object.keys(cluster.workers ?? {}).length === 0) process.exit(0);
    });
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

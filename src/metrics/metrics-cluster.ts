import cluster, { Worker } from 'node:cluster';
import { AggregatorRegistry, Registry, collectDefaultMetrics } from 'prom-client';
import { registerCollected } from './collected';

/**
 * One scrape shows the instance: the worker that receives it asks the primary, which asks
 * every serving worker for its samples (as JSON, over the cluster's IPC channel), merges them
 * with prom-client's AggregatorRegistry.aggregate (each metric's aggregator: counts summed,
 * `up` gauges the minimum) and answers. A worker that does not answer within
 * COLLECT_TIMEOUT_MS (busy starting, dying) is left out and the scrape says how many answered
 * (kms_workers_reporting), rather than failing the whole scrape as prom-client's own
 * clusterMetrics() does.
 */
const SCRAPE = 'metrics?';
const SCRAPED = 'metrics';
const COLLECT = 'metrics-collect';
const PART = 'metrics-part';
export const COLLECT_TIMEOUT_MS = 2000;

/** One worker's samples: what Registry.getMetricsAsJSON() gives. */
type Part = object[];
type Message = { kms?: string; id?: number; metrics?: Part; text?: string };

/** A registry for this process's metrics, with Node's process metrics (memory, CPU, event loop, GC). */
export function processRegistry(): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  return registry;
}

/** In a worker: answer the primary's collection requests with this registry's samples. */
export function answerCollections(registry: Registry): () => void {
  const onMessage = (m: Message) => {
    if (m?.kms !== COLLECT) return;
    void registry.getMetricsAsJSON().then((metrics) => process.send?.({ kms: PART, id: m.id, metrics }), () => process.send?.({ kms: PART, id: m.id, metrics: [] }));
  };
  process.on('message', onMessage);
  return () => process.off('message', onMessage);
}

let nextScrape = 0;

/** The instance's metrics in Prometheus text: through the primary in a worker, else this process's registry. */
export function scrape(registry: Registry): Promise<string> {
  if (!cluster.isWorker) return registry.metrics();
  const id = nextScrape++;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      process.off('message', onMessage);
      reject(new Error('the primary process did not answer the metrics request'));
    }, COLLECT_TIMEOUT_MS + 2000);
    const onMessage = (m: Message) => {
      if (m?.kms !== SCRAPED || m.id !== id) return;
      clearTimeout(timer);
      process.off('message', onMessage);
      resolve(m.text ?? '');
    };
    process.on('message', onMessage);
    process.send!({ kms: SCRAPE, id });
  });
}

/** In the primary: answer each worker's scrape with every serving worker's samples merged. */
export function serveClusterMetrics(serving: () => Worker[]): void {
  let nextCollect = 0;
  const collecting = new Map<number, (w: Worker, metrics: Part) => void>();
  cluster.on('message', (w: Worker, m: Message) => {
    if (m?.kms === PART) collecting.get(m.id!)?.(w, m.metrics ?? []);
    if (m?.kms !== SCRAPE) return;
    const id = nextCollect++;
    const workers = serving().filter((x) => x.isConnected());
    const parts: Part[] = [];
    const finish = () => {
      collecting.delete(id);
      clearTimeout(timer);
      void merged(parts).then(
        (text) => w.isConnected() && w.send({ kms: SCRAPED, id: m.id, text }),
        () => w.isConnected() && w.send({ kms: SCRAPED, id: m.id, text: '' }),
      );
    };
    const timer = setTimeout(finish, COLLECT_TIMEOUT_MS);
    collecting.set(id, (_from, metrics) => {
      parts.push(metrics);
      if (parts.length >= workers.length) finish();
    });
    if (workers.length === 0) return finish();
    for (const x of workers) x.send({ kms: COLLECT, id });
  });
}

async function merged(parts: Part[]): Promise<string> {
  const registry: Registry = parts.length ? AggregatorRegistry.aggregate<typeof Registry.PROMETHEUS_CONTENT_TYPE>(parts) : new Registry();
  registerWorkersReporting(registry, parts.length);
  return registry.metrics();
}

/** How many processes' samples a scrape shows (1 without workers). */
export function registerWorkersReporting(registry: Registry, n: number): void {
  registerCollected(registry, { name: 'kms_workers_reporting', help: 'Worker processes whose metrics this scrape includes.', type: 'gauge', aggregator: 'sum', samples: () => [{ labels: {}, value: n }] });
}

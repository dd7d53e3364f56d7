import type { Registry } from 'prom-client';

/** One sample: label values and a number (histograms name their `_bucket`/`_sum`/`_count` series). */
export interface Sample {
  labels: Record<string, string | number>;
  value: number;
  metricName?: string;
}

export interface CollectedMetric {
  name: string;
  help: string;
  type: 'counter' | 'gauge' | 'histogram';
  /** How the primary merges the workers' samples: `sum` (counts, sessions) or `min` (up: the instance is up only if every worker is). */
  aggregator: 'sum' | 'min' | 'max';
  samples: () => Sample[] | Promise<Sample[]>;
}

/**
 * Registers a metric whose samples are read when scraped, from plain counts the core keeps.
 * The request path then only bumps numbers: prom-client's own `inc`/`observe` hash the label
 * set on every call (a string per call). prom-client still formats, merges the workers'
 * samples (AggregatorRegistry.aggregate) and collects the process metrics.
 */
export function registerCollected(registry: Registry, m: CollectedMetric): void {
  const get = async () => ({ name: m.name, help: m.help, type: m.type, aggregator: m.aggregator, values: await m.samples() });
  registry.registerMetric({ name: m.name, help: m.help, type: m.type, aggregator: m.aggregator, get } as unknown as Parameters<Registry['registerMetric']>[0]);
}

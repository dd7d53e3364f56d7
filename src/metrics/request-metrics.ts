import { Inject, Injectable } from '@nestjs/common';
import { Registry } from 'prom-client';
import { Sample, registerCollected } from './collected';

/** Upper bounds of the latency buckets, in seconds (an Encrypt takes well under a millisecond). */
export const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
/** The action of a request that named none a face knows (unparseable, unknown): callers choose what they send. */
export const UNKNOWN_ACTION = 'unknown';
/** Distinct result codes kept per action; beyond, `other` (a face's codes are a short list, but they come from its errors). */
const MAX_RESULTS = 64;
const OTHER_RESULT = 'other';

/** Nest injection token of the process's metrics registry. */
export const METRICS_REGISTRY = Symbol('METRICS_REGISTRY');

class Count {
  n = 0;
}

/** The counts of one (face, action): fixed label sets, made when the face declares its actions. */
class ActionCounts {
  readonly results = new Map<string, Count>();
  readonly buckets = new Float64Array(LATENCY_BUCKETS.length);
  count = 0;
  sum = 0;

  result(code: string): Count {
    let c = this.results.get(code);
    if (c !== undefined) return c;
    const key = this.results.size < MAX_RESULTS ? code : OTHER_RESULT;
    c = this.results.get(key) ?? new Count();
    this.results.set(key, c);
    return c;
  }
}

/**
 * Requests by face, action and result, and their latency. A face declares its actions once;
 * counting a request is then two Map reads and a few number writes, with no string built and
 * nothing allocated (but the first time a result code is seen for an action). Action names a
 * face does not know count as `unknown`, so callers cannot grow the label sets.
 */
@Injectable()
export class RequestMetrics {
  private readonly faces = new Map<string, Map<string, ActionCounts>>();

  constructor(@Inject(METRICS_REGISTRY) registry: Registry) {
    registerCollected(registry, { name: 'kms_requests_total', help: 'Requests answered, by face, action and result (Success or the error code answered).', type: 'counter', aggregator: 'sum', samples: () => this.requestSamples() });
    registerCollected(registry, { name: 'kms_request_duration_seconds', help: 'Time from a request reaching its face to its answer, by face and action.', type: 'histogram', aggregator: 'sum', samples: () => this.latencySamples() });
  }

  /** The actions (or operations) a face answers; called once by each face. */
  declare(face: string, actions: Iterable<string>): void {
    const table = this.faces.get(face) ?? new Map<string, ActionCounts>([[UNKNOWN_ACTION, new ActionCounts()]]);
    for (const a of actions) if (!table.has(a)) table.set(a, new ActionCounts());
    this.faces.set(face, table);
  }

  /** Counts one answered request; `ms` is its duration in milliseconds. */
  observe(face: string, action: string, result: string, ms: number): void {
    const table = this.faces.get(face);
    if (table === undefined) return;
    const a = table.get(action) ?? table.get(UNKNOWN_ACTION)!;
    a.result(result).n++;
    const s = ms / 1000;
    a.count++;
    a.sum += s;
    for (let i = 0; i < LATENCY_BUCKETS.length; i++) {
      if (s <= LATENCY_BUCKETS[i]) {
        a.buckets[i]++;
        break;
      }
    }
  }

  private requestSamples(): Sample[] {
    const out: Sample[] = [];
    for (const [face, table] of this.faces) for (const [action, a] of table) for (const [result, c] of a.results) out.push({ labels: { face, action, result }, value: c.n });
    return out;
  }

  /** Cumulative buckets, as Prometheus reads them; only actions that were called. */
  private latencySamples(): Sample[] {
    const out: Sample[] = [];
    const name = 'kms_request_duration_seconds';
    for (const [face, table] of this.faces) {
      for (const [action, a] of table) {
        if (a.count === 0) continue;
        let acc = 0;
        for (let i = 0; i < LATENCY_BUCKETS.length; i++) {
          acc += a.buckets[i];
          out.push({ labels: { face, action, le: LATENCY_BUCKETS[i] }, value: acc, metricName: `${name}_bucket` });
        }
        out.push({ labels: { face, action, le: '+Inf' }, value: a.count, metricName: `${name}_bucket` });
        out.push({ labels: { face, action }, value: a.sum, metricName: `${name}_sum` });
        out.push({ labels: { face, action }, value: a.count, metricName: `${name}_count` });
      }
    }
    return out;
  }
}

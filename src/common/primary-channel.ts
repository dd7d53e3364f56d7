import cluster, { Worker } from 'node:cluster';
import { requestsInFlight } from './requests-in-flight';

/** One end of an IPC channel: `process` in a cluster worker, a `Worker` in the primary. */
export interface ChannelPort {
  send(message: unknown): unknown;
  on(event: 'message', listener: (message: unknown) => void): unknown;
}

/** A worker's end (`process`); a closed channel throws rather than emitting an 'error' later. */
const toPrimary: ChannelPort = {
  send(message) {
    if (!process.connected || !process.send) throw new Error('the IPC channel is closed');
    return process.send(message);
  },
  on: (event, listener) => process.on(event, listener),
};

interface Batch<T> {
  kms: string;
  id: number;
  items: T[];
}

/**
 * Questions one process asks another over IPC (a worker asks the primary for a signature claim
 * or a rate counter; the primary asks a worker to drop a changed key), batched: those asked in
 * one turn of the event loop travel in one IPC message, sent once the turn's I/O callbacks have
 * run (setImmediate), and their answers come back in one. An IPC message costs both processes
 * far more than the question itself, and under load one turn reads many requests. A question
 * of a request that is alone in its process (requestsInFlight), with nothing out, leaves at
 * once: the other side then works on it while this one goes on. Answers come in the order
 * asked. Questions without an answer within `timeoutMs` (the other process is stuck or gone),
 * or that cannot be sent (the channel closed), are answered by `fallback` on the asking side.
 */
export class PrimaryChannel<Q, A> {
  private next = 1;
  private queued: Q[] = [];
  private waiting: Array<(a: A) => void> = [];
  private readonly pending = new Map<number, { answer: Array<(a: A) => void>; timer: NodeJS.Timeout }>();

  constructor(
    private readonly topic: string,
    private readonly timeoutMs: number,
    private readonly fallback: (q: Q) => A,
    private readonly port: ChannelPort = toPrimary,
  ) {
    port.on('message', (message) => {
      const m = message as Batch<A> | undefined;
      if (m?.kms !== this.topic) return;
      const p = this.pending.get(m.id);
      if (!p) return;
      clearTimeout(p.timer);
      this.pending.delete(m.id);
      for (let i = 0; i < p.answer.length; i++) p.answer[i](m.items[i]);
    });
  }

  ask(q: Q): Promise<A> {
    return new Promise((resolve) => {
      const idle = requestsInFlight.alone() && this.pending.size === 0 && this.queued.length === 0;
      if (this.queued.length === 0 && !idle) setImmediate(() => this.flush());
      this.queued.push(q);
      this.waiting.push(resolve);
      if (idle) this.flush();
    });
  }

  private flush(): void {
    const id = this.next++;
    const questions = this.queued;
    const answer = this.waiting;
    this.queued = [];
    this.waiting = [];
    const alone = () => {
      this.pending.delete(id);
      for (let i = 0; i < answer.length; i++) answer[i](this.fallback(questions[i]));
    };
    // The wait alone never holds a process open: while an answer can come, the channel does.
    const timer = setTimeout(alone, this.timeoutMs).unref();
    this.pending.set(id, { answer, timer });
    try {
      this.port.send({ kms: this.topic, id, items: questions } satisfies Batch<Q>);
    } catch {
      // The channel is closed (the other process is gone, or this one is stopping): no answer will come.
      clearTimeout(timer);
      alone();
    }
  }

  /**
   * In the primary: answers every worker's batches of `topic` with `answer`, one question at a
   * time. Answers that are promises are awaited together, and the batch is answered once all
   * have settled (a rejected one answers `undefined`, leaving the asker to its own judgement).
   */
  static serve<Q, A>(topic: string, answer: (q: Q, from: Worker) => A | Promise<A>): void {
    cluster.on('message', (worker, m: Batch<Q>) => {
      if (m?.kms !== topic) return;
      reply(m, (q) => answer(q, worker), (r) => worker.isConnected() && worker.send(r));
    });
  }

  /** In a worker: answers the primary's batches of `topic` with `answer`, as `serve` does. */
  static answer<Q, A>(topic: string, answer: (q: Q) => A | Promise<A>, port: ChannelPort = toPrimary): void {
    port.on('message', (message) => {
      const m = message as Batch<Q> | undefined;
      if (m?.kms !== topic) return;
      reply(m, answer, (r) => {
        try {
          port.send(r);
        } catch {
          // The primary is gone: nobody waits for the answer.
        }
      });
    });
  }
}

function reply<Q, A>(m: Batch<Q>, answer: (q: Q) => A | Promise<A>, send: (r: Batch<A>) => unknown): void {
  const items = m.items.map(answer);
  // Claims and counters answer at once; only a batch holding a promise waits for the microtask.
  if (!items.some((a) => a instanceof Promise)) return void send({ kms: m.kms, id: m.id, items: items as A[] });
  void Promise.allSettled(items).then((settled) => send({ kms: m.kms, id: m.id, items: settled.map((s) => (s.status === 'fulfilled' ? s.value : (undefined as A))) }));
}

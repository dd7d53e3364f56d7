import cluster from 'node:cluster';

/** A worker's end of the IPC channel to the primary: `process` in a cluster worker. */
export interface ChannelPort {
  send(message: unknown): unknown;
  on(event: 'message', listener: (message: unknown) => void): unknown;
}

interface Batch<T> {
  kms: string;
  id: number;
  items: T[];
}

/**
 * Questions a cluster worker asks the primary (a signature claim, a rate counter), batched:
 * those asked in one turn of the event loop travel in one IPC message, sent once the turn's
 * I/O callbacks have run (setImmediate), and their answers come back in one. An IPC message
 * costs both processes far more than the question itself, and under load one turn reads
 * many requests; a lone request waits for nothing. The primary answers in the order asked.
 * Questions without an answer within `timeoutMs` (a primary that is stuck or gone), or that
 * cannot be sent (the channel closed), are answered by `fallback` in the worker.
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
    private readonly port: ChannelPort = process as unknown as ChannelPort,
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
      if (this.queued.length === 0) setImmediate(() => this.flush());
      this.queued.push(q);
      this.waiting.push(resolve);
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
    const timer = setTimeout(alone, this.timeoutMs);
    this.pending.set(id, { answer, timer });
    try {
      this.port.send({ kms: this.topic, id, items: questions } satisfies Batch<Q>);
    } catch {
      // The channel is closed (the primary is gone, this worker is stopping): no answer will come.
      clearTimeout(timer);
      alone();
    }
  }

  /** In the primary: answers every worker's batches of `topic` with `answer`, one question at a time. */
  static serve<Q, A>(topic: string, answer: (q: Q) => A): void {
    cluster.on('message', (worker, m: Batch<Q>) => {
      if (m?.kms !== topic) return;
      worker.send({ kms: topic, id: m.id, items: m.items.map(answer) } satisfies Batch<A>);
    });
  }
}

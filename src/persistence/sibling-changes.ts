import cluster, { Worker } from 'node:cluster';

/**
 * How long a write waits for its sibling workers to drop what it changed. Past it the write is
 * answered anyway: a worker that does not answer (busy, stopping) learns of the change from
 * the change feed's next poll, as another instance does.
 */
export const SIBLING_WAIT_MS = 250;

interface Tell {
  kms: 'change';
  id: number;
  kind: string;
  ref: string;
}
interface Apply {
  kms: 'change-apply';
  id: number;
  kind: string;
  ref: string;
}
/** A sibling to the primary: applied. */
interface Acked {
  kms: 'change-acked';
  id: number;
}
/** The primary to the teller: every sibling applied it (or did not answer in time). */
interface Applied {
  kms: 'change-applied';
  id: number;
}

/**
 * Read-your-writes across the workers of one instance. The change feed brings a change to
 * every process within a poll (about 250 ms); within that time a read served by another
 * worker of the same instance could still answer from its cache (ImportKeyMaterial, then
 * DescribeKey saying PendingImport, or Encrypt after DisableKey succeeding). So a worker tells
 * its siblings of each committed change through the primary, and the write is answered once
 * every serving sibling has dropped the entries concerned (or SIBLING_WAIT_MS has passed).
 */
export class SiblingChanges {
  private next = 1;
  private readonly pending = new Map<number, () => void>();

  constructor(apply: (kind: string, ref: string) => void) {
    process.on('message', (m: Apply | Applied) => {
      if (m?.kms === 'change-apply') {
        apply(m.kind, m.ref);
        if (process.connected) process.send!({ kms: 'change-acked', id: m.id } satisfies Acked);
      } else if (m?.kms === 'change-applied') {
        this.pending.get(m.id)?.();
      }
    });
  }

  /** Resolves once the siblings have applied the change, or after SIBLING_WAIT_MS; never rejects. */
  tell(kind: string, ref: string): Promise<void> {
    const id = this.next++;
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.pending.delete(id);
        resolve();
      };
      const timer = setTimeout(done, SIBLING_WAIT_MS);
      this.pending.set(id, done);
      try {
        process.send!({ kms: 'change', id, kind, ref } satisfies Tell);
      } catch {
        done(); // the channel is closed: no sibling can be told, the poll will tell them
      }
    });
  }

  /** In the primary: relays each change to the other serving workers and answers the teller once all have applied it. */
  static serve(serving: () => Worker[]): void {
    let next = 1;
    /** Relayed id -> the acknowledgements still awaited, and what to do when none is left. */
    const relays = new Map<number, { left: number; done: () => void }>();
    cluster.on('message', (from, m: Tell | Acked) => {
      if (m?.kms === 'change-acked') {
        const r = relays.get(m.id);
        if (r && --r.left === 0) r.done();
        return;
      }
      if (m?.kms !== 'change') return;
      const answer = () => from.isConnected() && from.send({ kms: 'change-applied', id: m.id } satisfies Applied);
      const others = serving().filter((w) => w !== from && w.isConnected());
      if (others.length === 0) return void answer();
      const id = next++;
      const timer = setTimeout(() => relays.delete(id), SIBLING_WAIT_MS);
      relays.set(id, {
        left: others.length,
        done: () => {
          clearTimeout(timer);
          relays.delete(id);
          answer();
        },
      });
      for (const w of others) w.send({ kms: 'change-apply', id, kind: m.kind, ref: m.ref } satisfies Apply);
    });
  }
}

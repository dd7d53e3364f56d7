import { Worker } from 'node:cluster';
import { ChannelPort, PrimaryChannel } from '../common/primary-channel';

/**
 * How long a write waits for its sibling workers to drop what it changed. Past it the write is
 * answered anyway: a worker that does not answer (busy, stopping) learns of the change from
 * the change feed's next poll, as another instance does.
 */
export const SIBLING_WAIT_MS = 250;

interface Change {
  kind: string;
  ref: string;
}

/** A worker seen from the primary; a worker gone meanwhile throws rather than emitting an 'error' later. */
function port(w: Worker): ChannelPort {
  return {
    send(message) {
      if (!w.isConnected()) throw new Error('the worker is gone');
      return w.send(message as never);
    },
    on: (event, listener) => w.on(event, listener),
  };
}

/**
 * Read-your-writes across the workers of one instance. The change feed brings a change to
 * every process within a poll (about 250 ms); within that time a read served by another
 * worker of the same instance could still answer from its cache (ImportKeyMaterial, then
 * DescribeKey saying PendingImport, or Encrypt after DisableKey succeeding). So a worker tells
 * its siblings of each committed change through the primary, and the write is answered once
 * every serving sibling has dropped the entries concerned (or SIBLING_WAIT_MS has passed).
 * Both legs are PrimaryChannel questions, so the changes of one turn travel together.
 */
export class SiblingChanges {
  private readonly primary = new PrimaryChannel<Change, void>('change', SIBLING_WAIT_MS, () => undefined);

  constructor(apply: (kind: string, ref: string) => void) {
    PrimaryChannel.answer<Change, void>('change-apply', (c) => apply(c.kind, c.ref));
  }

  /** Resolves once the siblings have applied the change, or after SIBLING_WAIT_MS; never rejects. */
  tell(kind: string, ref: string): Promise<void> {
    return this.primary.ask({ kind, ref });
  }

  /** In the primary: relays each change to the other serving workers and answers the teller once all have applied it. */
  static serve(serving: () => Worker[]): void {
    const toWorker = new WeakMap<Worker, PrimaryChannel<Change, void>>();
    const channel = (w: Worker) => {
      let c = toWorker.get(w);
      if (!c) toWorker.set(w, (c = new PrimaryChannel<Change, void>('change-apply', SIBLING_WAIT_MS, () => undefined, port(w))));
      return c;
    };
    PrimaryChannel.serve<Change, void>('change', (change, from) => {
      const others = serving().filter((w) => w !== from && w.isConnected());
      if (others.length > 0) return Promise.all(others.map((w) => channel(w).ask(change))).then(() => undefined);
    });
  }
}

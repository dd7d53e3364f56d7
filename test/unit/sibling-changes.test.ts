import cluster, { Worker } from 'node:cluster';
import { SIBLING_WAIT_MS, SiblingChanges } from '../../src/persistence/sibling-changes';

/** The primary's relay, with stand-in workers: what each is sent, and when the teller hears back. */

interface Sent {
  kms: string;
  id: number;
  kind?: string;
  ref?: string;
}

function worker(name: string, connected = true): Worker & { sent: Sent[] } {
  const sent: Sent[] = [];
  return { sent, isConnected: () => connected, send: (m: Sent) => void sent.push(m), name } as unknown as Worker & { sent: Sent[] };
}

const workers: Array<Worker & { sent: Sent[] }> = [];
beforeAll(() => SiblingChanges.serve(() => workers));
afterEach(() => {
  workers.length = 0;
  jest.useRealTimers();
});

const tell = (from: Worker, id: number) => cluster.emit('message', from, { kms: 'change', id, kind: 'key', ref: 'k1' });

it('relays a change to every other serving worker and answers the teller once all have applied it', () => {
  const [a, b, c] = [worker('a'), worker('b'), worker('c')];
  workers.push(a, b, c);
  tell(a, 7);
  expect(a.sent).toEqual([]);
  const relayed = b.sent[0];
  expect(relayed).toMatchObject({ kms: 'change-apply', kind: 'key', ref: 'k1' });
  expect(c.sent[0]).toEqual(relayed);
  cluster.emit('message', b, { kms: 'change-acked', id: relayed.id });
  expect(a.sent).toEqual([]);
  cluster.emit('message', c, { kms: 'change-acked', id: relayed.id });
  expect(a.sent).toEqual([{ kms: 'change-applied', id: 7 }]);
});

it('answers at once when the teller is the only serving worker, and skips disconnected ones', () => {
  const [a, gone] = [worker('a'), worker('gone', false)];
  workers.push(a, gone);
  tell(a, 1);
  expect(gone.sent).toEqual([]);
  expect(a.sent).toEqual([{ kms: 'change-applied', id: 1 }]);
});

it('forgets a relay that a sibling does not acknowledge in time (the teller stops waiting by itself)', () => {
  jest.useFakeTimers();
  const [a, stuck] = [worker('a'), worker('stuck')];
  workers.push(a, stuck);
  tell(a, 3);
  jest.advanceTimersByTime(SIBLING_WAIT_MS);
  // The relay is forgotten: a late acknowledgement answers nobody.
  cluster.emit('message', stuck, { kms: 'change-acked', id: stuck.sent[0].id });
  expect(a.sent).toEqual([]);
});

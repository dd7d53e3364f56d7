import cluster, { Worker } from 'node:cluster';
import { EventEmitter } from 'node:events';
import { SIBLING_WAIT_MS, SiblingChanges } from '../../src/persistence/sibling-changes';

/** The primary's relay, with stand-in workers: what each is sent, and when the teller hears back. */

interface Sent {
  kms: string;
  id: number;
  items: unknown[];
}

type StandIn = Worker & { sent: Sent[] };

function worker(connected = true): StandIn {
  const w = new EventEmitter() as unknown as StandIn;
  w.sent = [];
  Object.assign(w, { isConnected: () => connected, send: (m: Sent) => void w.sent.push(m) });
  return w;
}

const change = { kind: 'key', ref: 'k1' };
const workers: StandIn[] = [];
beforeAll(() => SiblingChanges.serve(() => workers));
afterEach(() => {
  workers.length = 0;
  jest.useRealTimers();
});

const tell = (from: Worker, id: number) => cluster.emit('message', from, { kms: 'change', id, items: [change] });
const turn = () => new Promise((r) => setImmediate(r));

it('relays a change to every other serving worker and answers the teller once all have applied it', async () => {
  const [a, b, c] = [worker(), worker(), worker()];
  workers.push(a, b, c);
  tell(a, 7);
  await turn();
  expect(a.sent).toEqual([]);
  const relayed = b.sent[0];
  expect(relayed).toMatchObject({ kms: 'change-apply', items: [change] });
  expect(c.sent[0]).toEqual(relayed);
  b.emit('message', { kms: 'change-apply', id: relayed.id, items: [null] });
  await turn();
  expect(a.sent).toEqual([]);
  c.emit('message', { kms: 'change-apply', id: relayed.id, items: [null] });
  await turn();
  expect(a.sent).toEqual([{ kms: 'change', id: 7, items: [undefined] }]);
});

it('answers at once when the teller is the only serving worker, and skips disconnected ones', () => {
  const [a, gone] = [worker(), worker(false)];
  workers.push(a, gone);
  tell(a, 1);
  expect(gone.sent).toEqual([]);
  expect(a.sent).toEqual([{ kms: 'change', id: 1, items: [undefined] }]);
});

it('answers the teller after SIBLING_WAIT_MS when a sibling does not acknowledge', async () => {
  jest.useFakeTimers();
  const [a, stuck] = [worker(), worker()];
  workers.push(a, stuck);
  tell(a, 3);
  jest.runOnlyPendingTimers(); // the setImmediate that relays
  expect(stuck.sent).toHaveLength(1);
  expect(a.sent).toEqual([]);
  await jest.advanceTimersByTimeAsync(SIBLING_WAIT_MS);
  expect(a.sent).toEqual([{ kms: 'change', id: 3, items: [undefined] }]);
});

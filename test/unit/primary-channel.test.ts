import cluster, { Worker } from 'node:cluster';
import { EventEmitter } from 'node:events';
import { ChannelPort, PrimaryChannel } from '../../src/common/primary-channel';

/** The batched worker-to-primary channel, over a stand-in IPC port. */

interface Batch {
  kms: string;
  id: number;
  items: number[];
}

function port(): ChannelPort & { sent: Batch[]; reply(m: unknown): void } {
  const events = new EventEmitter();
  const sent: Batch[] = [];
  return { sent, send: (m: unknown) => sent.push(m as Batch), on: (e: 'message', l: (m: unknown) => void) => events.on(e, l), reply: (m: unknown) => events.emit('message', m) };
}

const turn = () => new Promise((r) => setImmediate(r));

afterEach(() => jest.useRealTimers());

it('sends a question at once when none is out, and those asked meanwhile in one message per turn, answering each in order', async () => {
  const p = port();
  const channel = new PrimaryChannel<number, string>('t', 1000, () => 'fallback', p);
  const first = channel.ask(1);
  expect(p.sent).toEqual([{ kms: 't', id: 1, items: [1] }]);
  const answers = Promise.all([channel.ask(2), channel.ask(3)]);
  expect(p.sent).toHaveLength(1);
  await turn();
  expect(p.sent[1]).toEqual({ kms: 't', id: 2, items: [2, 3] });
  const later = channel.ask(4);
  await turn();
  expect(p.sent[2]).toEqual({ kms: 't', id: 3, items: [4] });
  p.reply({ kms: 't', id: 3, items: ['four'] });
  p.reply({ kms: 'other', id: 1, items: ['not ours'] });
  p.reply({ kms: 't', id: 2, items: ['two', 'three'] });
  p.reply({ kms: 't', id: 1, items: ['one'] });
  expect(await first).toBe('one');
  expect(await answers).toEqual(['two', 'three']);
  expect(await later).toBe('four');
  // Nothing is out any more: the next question leaves at once again.
  void channel.ask(5);
  expect(p.sent[3]).toEqual({ kms: 't', id: 4, items: [5] });
});

it('answers from the fallback when the primary does not answer in time, and ignores a late answer', async () => {
  jest.useFakeTimers();
  const p = port();
  const channel = new PrimaryChannel<number, string>('t', 1000, (q) => `alone ${q}`, p);
  const answer = channel.ask(7);
  jest.advanceTimersByTime(1000);
  expect(await answer).toBe('alone 7');
  expect(() => p.reply({ kms: 't', id: 1, items: ['late'] })).not.toThrow();
});

it('does not hold the process open while a question waits', () => {
  const timers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
  const before = timers();
  const channel = new PrimaryChannel<number, string>('t', 60_000, () => 'fallback', port());
  void channel.ask(1);
  expect(timers()).toBe(before);
});

it('answers from the fallback at once when the channel is closed', async () => {
  const closed: ChannelPort = { send: () => { throw new Error('Channel closed'); }, on: () => undefined };
  const channel = new PrimaryChannel<number, string>('t', 60_000, (q) => `alone ${q}`, closed);
  expect(await Promise.all([channel.ask(1), channel.ask(2)])).toEqual(['alone 1', 'alone 2']);
});

it('serves each batch in the primary, one answer per question in order', () => {
  PrimaryChannel.serve<number, number>('square', (q) => q * q);
  const sent: unknown[] = [];
  const worker = { send: (m: unknown) => sent.push(m), isConnected: () => true } as unknown as Worker;
  cluster.emit('message', worker, { kms: 'square', id: 5, items: [2, 3] });
  cluster.emit('message', worker, { kms: 'other', id: 6, items: [4] });
  expect(sent).toEqual([{ kms: 'square', id: 5, items: [4, 9] }]);
});

it('answers a batch holding promises once all have settled, a rejected one as undefined, in order', async () => {
  PrimaryChannel.serve<number, number>('later', (q) => (q === 2 ? Promise.reject(new Error('no')) : q === 3 ? Promise.resolve(30) : q * 10));
  const sent: unknown[] = [];
  const worker = { send: (m: unknown) => sent.push(m), isConnected: () => true } as unknown as Worker;
  cluster.emit('message', worker, { kms: 'later', id: 1, items: [1, 2, 3] });
  expect(sent).toEqual([]);
  await turn();
  expect(sent).toEqual([{ kms: 'later', id: 1, items: [10, undefined, 30] }]);
});

it('answers the batches another process asks on a port, and stays quiet when that port has closed', async () => {
  const p = port();
  PrimaryChannel.answer<number, number>('double', async (q) => q * 2, p);
  p.reply({ kms: 'double', id: 4, items: [1, 2] });
  p.reply({ kms: 'other', id: 5, items: [3] });
  await turn();
  expect(p.sent).toEqual([{ kms: 'double', id: 4, items: [2, 4] }]);
  const closed = { ...port(), send: () => { throw new Error('Channel closed'); } };
  PrimaryChannel.answer<number, number>('double', (q) => q * 2, closed);
  expect(() => closed.reply({ kms: 'double', id: 1, items: [1] })).not.toThrow();
});

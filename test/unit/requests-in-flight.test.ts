import { ChannelPort, PrimaryChannel } from '../../src/common/primary-channel';
import { requestsInFlight } from '../../src/common/requests-in-flight';

/** When a request counts as alone, and what the IPC channel does about it. */

afterEach(() => jest.useRealTimers());

function request(): () => void {
  let done!: () => void;
  void requestsInFlight.track(new Promise<void>((r) => (done = r)));
  return done;
}
const settled = () => new Promise((r) => setImmediate(r));

it('is alone when no other request is in flight, and not for 50 ms after two were', async () => {
  jest.useFakeTimers({ doNotFake: ['setImmediate'] });
  const first = request();
  expect(requestsInFlight.alone()).toBe(true);
  const second = request();
  expect(requestsInFlight.alone()).toBe(false);
  second();
  await settled();
  expect(requestsInFlight.count).toBe(1);
  expect(requestsInFlight.alone()).toBe(false);
  jest.advanceTimersByTime(51);
  expect(requestsInFlight.alone()).toBe(true);
  first();
  await settled();
  expect(requestsInFlight.count).toBe(0);
});

it('lets a question leave at once only for a lone request; in a crowd it waits for the end of the turn', async () => {
  jest.useFakeTimers({ doNotFake: ['setImmediate'] });
  const sent: unknown[] = [];
  const port: ChannelPort = { send: (m) => sent.push(m), on: () => undefined };
  const channel = new PrimaryChannel<number, number>('crowd', 1000, (q) => q, port);
  const [a, b] = [request(), request()];
  void channel.ask(1);
  expect(sent).toEqual([]);
  await settled();
  expect(sent).toEqual([{ kms: 'crowd', id: 1, items: [1] }]);
  a();
  b();
  await settled();
  jest.advanceTimersByTime(1000); // the fallback answers; nothing is out any more
  jest.advanceTimersByTime(51);
  const lone = request();
  void channel.ask(2);
  expect(sent[1]).toEqual({ kms: 'crowd', id: 2, items: [2] });
  lone();
});

import { turnCohort } from '../../src/common/turn-cohort';

/** A request's steps after the release: each await lets the others take their step first. */
async function request(name: string, log: string[]): Promise<void> {
  await turnCohort();
  log.push(`${name}: parameters`);
  await Promise.resolve();
  log.push(`${name}: token`);
  await Promise.resolve();
  log.push(`${name}: answer`);
}

describe('turnCohort', () => {
  it('releases the requests of a turn together, breadth first', async () => {
    const log: string[] = [];
    await Promise.all([request('a', log), request('b', log), request('c', log)]);
    expect(log).toEqual(['a: parameters', 'b: parameters', 'c: parameters', 'a: token', 'b: token', 'c: token', 'a: answer', 'b: answer', 'c: answer']);
  });

  it('is one promise per turn, settled in its check phase, and a new one after', async () => {
    const first = turnCohort();
    expect(turnCohort()).toBe(first);
    let settled = false;
    void first.then(() => (settled = true));
    for (let i = 0; i < 10; i++) await Promise.resolve();
    expect(settled).toBe(false); // not within the turn's microtasks: the turn's other I/O callbacks run first
    const order: string[] = [];
    setImmediate(() => order.push('immediate queued after the first join'));
    await first.then(() => order.push('cohort'));
    expect(order).toEqual(['cohort']);
    const next = turnCohort();
    expect(next).not.toBe(first);
    await next;
  });
});

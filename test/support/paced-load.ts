import { TimedCall, timed } from './rate-window';

/** One call of a paced load: its index (`send(i)`) and timing. */
export interface PacedCall extends TimedCall {
  i: number;
}

/** What a paced load got: calls accepted, refused by the rate limit, any other answer, and every call timed. */
export interface LoadOutcome {
  accepted: number;
  refused: number;
  other: string[];
  calls: PacedCall[];
}

/**
 * Calls `send(i)` `perSecond` times a second for `ms`, paced by the clock, not by the answers:
 * loops that wait for each answer offer less on a loaded machine (calls of 300 ms and more),
 * and in bursts, so a rate limit's lower bound failed there with nothing wrong in the service.
 * Late ticks are caught up at once, so the number sent stays perSecond * ms / 1000.
 */
export async function pacedLoad(send: (i: number) => Promise<string>, perSecond: number, ms: number, refusedCode = 'RequestLimitExceeded'): Promise<LoadOutcome> {
  const r: LoadOutcome = { accepted: 0, refused: 0, other: [], calls: [] };
  const pending: Array<Promise<void>> = [];
  const started = Date.now();
  const total = Math.round((perSecond * ms) / 1000);
  for (let i = 0; i < total; i++) {
    const due = started + (i * 1000) / perSecond;
    if (due > Date.now()) await new Promise((ok) => setTimeout(ok, due - Date.now()));
    pending.push(
      timed(() => send(i)).then((call) => {
        r.calls.push({ i, ...call });
        const { code } = call;
        if (code === 'OK') r.accepted++;
        else if (code === refusedCode) r.refused++;
        else r.other.push(code);
      }),
    );
  }
  await Promise.all(pending);
  return r;
}

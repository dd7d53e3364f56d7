/** What a paced load got: calls accepted, refused by the rate limit, and any other answer. */
export interface LoadOutcome {
  accepted: number;
  refused: number;
  other: string[];
}

/**
 * Calls `send(i)` `perSecond` times a second for `ms`, paced by the clock, not by the answers:
 * loops that wait for each answer offer less on a loaded machine (calls of 300 ms and more),
 * and in bursts, so a rate limit's lower bound failed there with nothing wrong in the service.
 * Late ticks are caught up at once, so the number sent stays perSecond * ms / 1000.
 */
export async function pacedLoad(send: (i: number) => Promise<string>, perSecond: number, ms: number, refusedCode = 'RequestLimitExceeded'): Promise<LoadOutcome> {
  const r: LoadOutcome = { accepted: 0, refused: 0, other: [] };
  const calls: Array<Promise<void>> = [];
  const started = Date.now();
  const total = Math.round((perSecond * ms) / 1000);
  for (let i = 0; i < total; i++) {
    const due = started + (i * 1000) / perSecond;
    if (due > Date.now()) await new Promise((ok) => setTimeout(ok, due - Date.now()));
    calls.push(
      send(i).then((code) => {
        if (code === 'OK') r.accepted++;
        else if (code === refusedCode) r.refused++;
        else r.other.push(code);
      }),
    );
  }
  await Promise.all(calls);
  return r;
}

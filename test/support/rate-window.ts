/** One call to a rate-limited action: when it was sent and answered (this machine's clock, ms) and its code. */
export interface TimedCall {
  sent: number;
  answered: number;
  code: string;
}

/**
 * The refusals that no limiter allowing `limit` calls in any `windowMs` could have made: a
 * refused call must have met `limit` accepted calls in the window before its decision. The
 * client cannot see when a service decided, only that it was between sending and answering,
 * so an accepted call counts when its decision could have fallen in that window: sent before
 * the refusal was answered, and answered less than `windowMs` before the refusal was sent.
 * The services time their decisions on the same clock (Date.now in the primary, TIME in
 * Redis). So the check holds however slowly or burstily a loaded machine serves the calls,
 * and on an idle one it is exact: a limiter that closes early (counts a call twice, counts
 * refusals) shows refusals here.
 */
export function impossibleRefusals(calls: TimedCall[], limit: number, windowMs = 1000, accepted = 'OK', refused = 'RequestLimitExceeded'): TimedCall[] {
  const ok = calls.filter((c) => c.code === accepted);
  return calls.filter((r) => r.code === refused && ok.filter((a) => a.sent <= r.answered && a.answered > r.sent - windowMs).length < limit);
}

/** Times `send` from the moment it is called to its answer. */
export async function timed(send: () => Promise<string>): Promise<TimedCall> {
  const sent = Date.now();
  const code = await send();
  return { sent, answered: Date.now(), code };
}

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

/** A window that held more accepted calls than the limit allows: from when, and how many. */
export interface OverfullWindow {
  from: number;
  accepted: number;
}

/**
 * The windows in which more calls were accepted than a limiter allowing `limit` calls in any
 * `windowMs` could have accepted: accepted calls sent no earlier than `from` and answered
 * before `from + windowMs` were all decided within one window, so more than `limit` of them is
 * a limit that opened. Like impossibleRefusals it judges from sending and answering alone
 * (services and Redis time their decisions on this machine's clock), so it holds however
 * slowly a loaded machine serves the calls, and on an idle one it is exact: two counters
 * where one was due, or a limit counted loosely, show here.
 */
export function impossibleAcceptances(calls: TimedCall[], limit: number, windowMs = 1000, accepted = 'OK'): OverfullWindow[] {
  const ok = calls.filter((c) => c.code === accepted);
  return ok
    .map((first) => ({ from: first.sent, accepted: ok.filter((c) => c.sent >= first.sent && c.answered < first.sent + windowMs).length }))
    .filter((w) => w.accepted > limit);
}

/** Times `send` from the moment it is called to its answer. */
export async function timed(send: () => Promise<string>): Promise<TimedCall> {
  const sent = Date.now();
  const code = await send();
  return { sent, answered: Date.now(), code };
}

/*
 * What a service's log says about its rate counters, for the checks above when Redis is
 * shared: which counters decided besides Redis's, so how many calls a window may hold.
 */

export const UNREACHABLE = 'rate-limit counters unreachable in Redis; counting in this instance meanwhile (each instance allows the full rate)';
export const SHARED = 'rate-limit counters shared in Redis again';
export const ALONE = 'the primary did not answer a rate-limit count; this worker counts alone meanwhile (it allows the full rate)';

/** Log lines (a service's logs, or a part of them): who wrote them and what. */
export function lines(logs: string): Array<{ pid: number; msg: string }> {
  return logs.split('\n').flatMap((l) => {
    try {
      const { pid, msg } = JSON.parse(l) as { pid: number; msg: string };
      return [{ pid, msg }];
    } catch {
      return [];
    }
  });
}

/** The processes whose last word in `logs` is that they count without Redis. */
export function away(logs: string): number[] {
  const last = new Map<number, string>();
  for (const l of lines(logs)) if (l.msg === UNREACHABLE || l.msg === SHARED) last.set(l.pid, l.msg);
  return [...last].filter(([, msg]) => msg === UNREACHABLE).map(([pid]) => pid);
}

/**
 * How many of an instance's own counters may have decided calls, besides Redis's, in a phase
 * that began at offset `from` of its `logs`: one if any of its processes counted without
 * Redis meanwhile (away when the phase began, or gone away since: a loaded machine's Redis
 * call over 500 ms does), and one more for each worker that counted alone (its primary
 * unanswered for a second; that warning comes at most every 10 s, so any in the logs counts).
 * Each counter allows the full limit.
 */
export function ownCounters(logs: string, from = 0): number {
  const wentAway = away(logs.slice(0, from)).length > 0 || lines(logs.slice(from)).some((l) => l.msg === UNREACHABLE);
  const alone = new Set(lines(logs).filter((l) => l.msg === ALONE).map((l) => l.pid)).size;
  return (wentAway ? 1 : 0) + alone;
}

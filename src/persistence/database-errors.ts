/**
 * Whether `e` says that the database cannot be reached or is not serving at the moment (it
 * is stopped, starting, shutting down, refusing connections, or a connection broke), as
 * opposed to a query it refused. Faces answer such errors with their retry-later code, never
 * as an internal error.
 */
export function isDatabaseUnavailable(e: unknown): boolean {
  for (let depth = 0, x: unknown = e; x && depth < 4; depth++) {
    const err = x as { code?: unknown; message?: unknown; errors?: unknown[]; driverError?: unknown; cause?: unknown };
    const code = typeof err.code === 'string' ? err.code : '';
    if (UNAVAILABLE_CODES.has(code) || code.startsWith('08') || code.startsWith('SQLITE_BUSY')) return true;
    if (typeof (err as { name?: unknown }).name === 'string' && RELEASED_RUNNER.has((err as { name: string }).name)) return true;
    if (typeof err.message === 'string' && UNAVAILABLE_MESSAGES.test(err.message)) return true;
    if (Array.isArray(err.errors) && err.errors.some(isDatabaseUnavailable)) return true; // AggregateError: one per address tried
    x = err.driverError ?? err.cause;
  }
  return false;
}

/**
 * Socket errors, and PostgreSQL's SQLSTATEs of a server going away, ending a connection or not
 * taking connections (class 08 is matched apart). 57P05: the server's idle_session_timeout
 * ended a pooled connection, which a query then finds; a retry gets another.
 */
const UNAVAILABLE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN', '57P01', '57P02', '57P03', '57P05', '53300']);
/** What node-postgres says, without a code, about a connection that broke or could not be made in time. */
const UNAVAILABLE_MESSAGES = /^(Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|Client was closed and is not queryable|Connection terminated unexpectedly)/;
/** TypeORM's errors for a query on a connection the pool dropped when the server went away mid-transaction. */
const RELEASED_RUNNER = new Set(['QueryRunnerAlreadyReleasedError', 'QueryRunnerProviderAlreadyReleasedError']);

/** How long after two requests were last in flight together a lone one still counts as in a crowd. */
const CROWD_MEMORY_MS = 50;

/**
 * The face requests this process is answering now. A request that is alone, and has been for
 * CROWD_MEMORY_MS, waits for nothing but its own work: its IPC questions leave at once
 * (PrimaryChannel), and a face may run a stateless action while its rate counter and
 * signature claim travel (src/api/). Under load the process has other requests' work to do
 * meanwhile; then batching pays, and holding answers back costs: running actions before their
 * claims came back cut Encrypt at 64 connections from about 11,000 to 8,000 per second. The
 * memory keeps the first request of each wave of a loaded process (all its connections
 * answered, none arrived yet) from being taken for a lone one.
 */
class RequestsInFlight {
  count = 0;
  private crowdedAt = -Infinity;

  /** Counts `answering` as in flight until it settles. */
  track<T>(answering: Promise<T>): Promise<T> {
    if (++this.count > 1) this.crowdedAt = Date.now();
    return answering.finally(() => this.count--);
  }

  alone(): boolean {
    return this.count <= 1 && Date.now() - this.crowdedAt > CROWD_MEMORY_MS;
  }
}

export const requestsInFlight = new RequestsInFlight();

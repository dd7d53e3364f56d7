/**
 * The keys one call touched: key id -> version used (undefined: the key only). The face
 * makes one per request and hands it to the core on the principal; jobs pass their own. It
 * travels explicitly, not in an AsyncLocalStorage: on Node 20 one enabled AsyncLocalStorage
 * puts a hook on every promise of the process, which costs the hot path a measurable share.
 */
export class TouchedKeys {
  private readonly keys = new Map<string, number | undefined>();

  note(keyId: string, version?: number): void {
    if (version !== undefined || !this.keys.has(keyId)) this.keys.set(keyId, version ?? this.keys.get(keyId));
  }

  /** `keyId` or `keyId/vN`, space-separated; undefined when none. */
  toString(): string {
    return [...this.keys].map(([id, v]) => (v === undefined ? id : `${id}/v${v}`)).join(' ');
  }
}

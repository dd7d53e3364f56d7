import { AsyncLocalStorage } from 'node:async_hooks';

/** The keys one call touched: key id -> version used (undefined: the key only). */
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

const scope = new AsyncLocalStorage<TouchedKeys>();

/** Runs one call with a record of the keys the core touches in it. */
export function withTouchedKeys<T>(keys: TouchedKeys, fn: () => T): T {
  return scope.run(keys, fn);
}

/** The core notes each key (and version) a call uses; outside a call this does nothing. */
export function noteKey(keyId: string, version?: number): void {
  scope.getStore()?.note(keyId, version);
}

import type { IncomingMessage } from 'node:http';
import { clientSubject } from '../http/client-subject';
import type { AuditEvent } from './audit-event';

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

/**
 * What the audit record of one request to a face collects while the face answers it: the face
 * fills in what it learns (the action, then the caller), the core notes the keys it touches.
 */
export class RequestAudit {
  readonly keys = new TouchedKeys();
  private readonly started = performance.now();
  action?: string;
  account?: string;
  subUser?: string;
  secretId?: string;

  constructor(
    readonly requestId: string,
    readonly at: number,
  ) {}

  /** The record of the request, answered with `result` (`Success` or the error code). */
  event(face: string, req: IncomingMessage, result: string): AuditEvent {
    return {
      at: this.at,
      face,
      action: this.action ?? '',
      account: this.account,
      subUser: this.subUser,
      secretId: this.secretId,
      keys: this.keys.toString(),
      requestId: this.requestId,
      source: req.socket.remoteAddress,
      clientCert: clientSubject(req.socket),
      result,
      durationMs: performance.now() - this.started,
    };
  }
}

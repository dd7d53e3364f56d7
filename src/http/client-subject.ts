import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';

/** The TLS client certificate's subject, read once per connection, for the audit trail. */
const subjects = new WeakMap<Socket, string | undefined>();
export function clientSubject(socket: Socket): string | undefined {
  if (!(socket as TLSSocket).encrypted) return undefined;
  if (subjects.has(socket)) return subjects.get(socket);
  const subject = (socket as TLSSocket).getPeerCertificate()?.subject;
  const text = subject && Object.keys(subject).length ? Object.entries(subject).map(([k, v]) => `${k}=${Array.isArray(v) ? v.join('+') : v}`).join(', ') : undefined;
  subjects.set(socket, text);
  return text;
}

import { IncomingMessage, ServerResponse } from 'node:http';
import { TencentError } from './tencent-error';

/**
 * How much of a body the answer no longer needs is read and dropped, so that the client
 * reads the answer cleanly (a connection closed while the client is still sending may lose
 * the answer), before the connection is closed instead. Covers the 10 MB the Tencent
 * document allows.
 */
const DISCARD_BYTES = 16 * 1024 * 1024;
const DISCARD_MS = 5_000;

/** The client closed or reset the connection before its body was complete: nobody to answer. */
export class ClientGoneError extends Error {
  constructor() {
    super('the client went away before sending its whole body');
  }
}

/**
 * Reads the request body up to `limit` bytes. A larger body is refused with a clear error
 * (`tooLargeError`, this face's own by default; another face passes its own):
 * a declared Content-Length at once, a chunked body as soon as it passes the limit. Nothing
 * past the limit is buffered; `settleBody` disposes of the rest.
 */
export function readBody(req: IncomingMessage, limit: number, tooLargeError: (limit: number) => Error = tooLarge): Promise<Buffer> {
  const declared = Number(req.headers['content-length'] ?? NaN);
  if (declared > limit) return Promise.reject(tooLargeError(limit));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const done = () => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onGone);
      req.off('close', onGone);
    };
    const onData = (c: Buffer) => {
      size += c.length;
      if (size <= limit) return void chunks.push(c);
      done();
      req.pause();
      reject(tooLargeError(limit));
    };
    const onEnd = () => {
      done();
      resolve(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks));
    };
    const onGone = () => {
      done();
      reject(new ClientGoneError());
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onGone);
    req.on('close', onGone);
  });
}

/**
 * Called before answering: a body that was not (fully) read, because the request was refused
 * before it was needed, is discarded without buffering. A keep-alive connection is answered
 * at once and then carries the next request. A connection the client asked to close is
 * answered once the body is discarded, since Node closes it right after the answer and a
 * client still sending then may lose it; the promise returned says when. When more than
 * DISCARD_BYTES are still to come, or they take longer than DISCARD_MS, the connection is
 * closed after the answer instead. Returns undefined when the answer need not wait.
 */
export function settleBody(req: IncomingMessage, res: ServerResponse): Promise<void> | undefined {
  if (req.complete) return undefined;
  const close = () => (res.writableFinished ? req.socket.destroy() : res.once('finish', () => req.socket.destroy()));
  const declared = Number(req.headers['content-length'] ?? NaN);
  if (declared > DISCARD_BYTES) {
    res.setHeader('Connection', 'close');
    close();
    return undefined;
  }
  const drained = new Promise<void>((resolve) => {
    let seen = 0;
    const giveUp = () => {
      req.off('data', onData);
      req.pause();
      close();
      resolve();
    };
    const timer = setTimeout(giveUp, DISCARD_MS).unref();
    const onData = (c: Buffer) => {
      seen += c.length;
      if (seen <= DISCARD_BYTES) return;
      clearTimeout(timer);
      giveUp();
    };
    const done = () => {
      clearTimeout(timer);
      resolve();
    };
    req.on('data', onData);
    req.once('end', done);
    req.once('close', done);
    req.resume();
  });
  return res.shouldKeepAlive ? undefined : drained;
}

function tooLarge(limit: number): TencentError {
  return new TencentError('InvalidParameter', `the request is larger than the ${limit / 1024} KB this signature method allows`);
}

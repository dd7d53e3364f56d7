import { IncomingMessage } from 'node:http';
import { TencentError } from './tencent-error';

/**
 * Reads the request body up to `limit` bytes. A larger body is refused with a clear error,
 * without buffering it: the rest is discarded so that the client still reads the answer.
 */
export function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length'] ?? NaN);
  if (declared > limit) {
    req.resume();
    return Promise.reject(tooLarge(limit));
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let over = false;
    req.on('data', (c: Buffer) => {
      if (over) return;
      size += c.length;
      if (size > limit) {
        over = true;
        chunks.length = 0;
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => (over ? reject(tooLarge(limit)) : resolve(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks))));
    req.on('error', reject);
  });
}

function tooLarge(limit: number): TencentError {
  return new TencentError('InvalidParameter', `the request is larger than the ${limit / 1024} KB this signature method allows`);
}

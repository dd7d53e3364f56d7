import { IncomingMessage } from 'node:http';
import { readBody } from '../tencent/body-reader';
import { huaweiError } from './huawei-error';

/**
 * The largest body read, well above the largest valid request (an encrypt-data of 4096
 * characters, each escaped as \uXXXX, with a 1 KB encryption context is about 31 KB), and
 * small because the body is read before its signature can be checked.
 */
export const MAX_BODY_BYTES = 64 * 1024;

/** The body within MAX_BODY_BYTES; a larger one is KMS.0203. Read at most once. */
export function bodyOnce(req: IncomingMessage): () => Promise<Buffer> {
  let body: Promise<Buffer> | undefined;
  return () => (body ??= readBody(req, MAX_BODY_BYTES, (limit) => huaweiError('tooLong', `the request body is larger than ${limit / 1024} KB`)));
}

/** The JSON body (KMS.0202 when it is not JSON); an empty body is an empty object. */
export function parseJson(body: Buffer): unknown {
  if (body.length === 0) return {};
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    throw huaweiError('badJson', 'the request body is not valid JSON');
  }
}

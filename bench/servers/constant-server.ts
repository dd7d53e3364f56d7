import { PLAINTEXT_BYTES } from '../lib/constants';
import { readBody, sendJson, serveChild } from './child-server';

/**
 * node:http answering every request with the same JSON, of an Encrypt answer's size, after
 * reading the body: the ceiling of what any Node HTTP server can do here.
 */
const blob = Buffer.alloc(12 + PLAINTEXT_BYTES + 16, 7).toString('base64');
const json = JSON.stringify({ Response: { CiphertextBlob: blob, KeyId: '00000000-0000-4000-8000-000000000000', RequestId: '00000000-0000-4000-8000-000000000000' } });

serveChild((req, res) => {
  readBody(req).then(
    () => sendJson(res, json),
    () => res.destroy(),
  );
});

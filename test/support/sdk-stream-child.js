'use strict';
// Streams BYTES of generated data through an encrypt stream into a decrypt stream of
// `hsm-kms/sdk` in this process, checks every byte that comes out, and prints
// {"ok", "bytes", "ms", "maxRssMb"} as JSON. Settings from the environment (see sdk-large-stream.e2e.test.ts).
const crypto = require('node:crypto');
const { Readable, Writable } = require('node:stream');
const { pipeline } = require('node:stream/promises');
const { Algorithm, KeyManager, createDecryptStream, createEncryptStream } = require('hsm-kms/sdk');

const MIB = 1024 * 1024;
const BYTES = Number(process.env.SDK_STREAM_BYTES);
const base = crypto.randomBytes(MIB);
/** Block i of the data: the random MiB with i in its first 4 bytes (made on the fly, never kept). */
const block = (i) => {
  const b = Buffer.from(base);
  b.writeUInt32BE(i, 0);
  return b;
};

async function* source() {
  for (let at = 0, i = 0; at < BYTES; at += MIB, i++) yield block(i).subarray(0, Math.min(MIB, BYTES - at));
}

async function main() {
  const km = new KeyManager({ endpoint: process.env.KMS_ENDPOINT, secretId: process.env.KMS_SECRET_ID, secretKey: process.env.KMS_SECRET_KEY, masterKeys: [{ region: process.env.KMS_REGION, keyId: process.env.SDK_KEY_ID }] });
  let pos = 0;
  let cached = { i: -1, b: null };
  const check = new Writable({
    highWaterMark: MIB,
    write(chunk, _enc, cb) {
      for (let off = 0; off < chunk.length; ) {
        const i = Math.floor(pos / MIB);
        if (cached.i !== i) cached = { i, b: block(i) };
        const inBlock = pos % MIB;
        const n = Math.min(chunk.length - off, MIB - inBlock);
        if (!chunk.subarray(off, off + n).equals(cached.b.subarray(inBlock, inBlock + n))) return cb(new Error(`byte ${pos} differs`));
        off += n;
        pos += n;
      }
      cb();
    },
  });
  const t0 = Date.now();
  await pipeline(Readable.from(source(), { objectMode: false, highWaterMark: MIB }), createEncryptStream(km, Algorithm[process.env.SDK_ALGORITHM], '{"test":"1GiB"}', 0), createDecryptStream(km), check);
  km.close();
  const ms = Date.now() - t0;
  process.stdout.write(JSON.stringify({ ok: pos === BYTES, bytes: pos, ms, maxRssMb: process.resourceUsage().maxRSS / 1024 }) + '\n');
}

main().catch((e) => {
  process.stderr.write(`${e.stack || e}\n`);
  process.exit(1);
});

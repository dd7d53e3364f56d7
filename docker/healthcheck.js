'use strict';
// The image's HEALTHCHECK: GET /_kms/health on the container's own loopback, over HTTPS when
// KMS_TLS_CERT_FILE is set. It checks liveness only, so it does not verify the server's
// certificate (whose names need not include 127.0.0.1). With mutual TLS
// (KMS_TLS_CLIENT_CA_FILE) it needs a client certificate of its own:
// KMS_HEALTHCHECK_CERT_FILE and KMS_HEALTHCHECK_KEY_FILE.
const fs = require('node:fs');
const env = process.env;
const tls = Boolean(env.KMS_TLS_CERT_FILE);
const options = { host: '127.0.0.1', port: Number(env.KMS_PORT || 8080), path: '/_kms/health', timeout: 2500 };
if (tls) {
  options.rejectUnauthorized = false;
  if (env.KMS_HEALTHCHECK_CERT_FILE) {
    options.cert = fs.readFileSync(env.KMS_HEALTHCHECK_CERT_FILE);
    options.key = fs.readFileSync(env.KMS_HEALTHCHECK_KEY_FILE);
  }
}
require(tls ? 'node:https' : 'node:http')
  .get(options, (res) => process.exit(res.statusCode === 200 ? 0 : 1))
  .on('timeout', () => process.exit(1))
  .on('error', () => process.exit(1));

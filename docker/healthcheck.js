'use strict';
// The image's HEALTHCHECK: GET /_kms/ready (or the path given as the first argument, e.g.
// /_kms/health for liveness only) on the container's own loopback, which KMS_METRICS_ALLOW must
// list for /_kms/ready (it does by default). With KMS_ADMIN_PORT it asks
// the admin port (plain HTTP); otherwise the API port, over HTTPS when KMS_TLS_CERT_FILE is set,
// without verifying the server's certificate (whose names need not include 127.0.0.1). With
// mutual TLS (KMS_TLS_CLIENT_CA_FILE) it needs a client certificate of its own:
// KMS_HEALTHCHECK_CERT_FILE and KMS_HEALTHCHECK_KEY_FILE.
const fs = require('node:fs');
const env = process.env;
const admin = Number(env.KMS_ADMIN_PORT || 0);
const tls = !admin && Boolean(env.KMS_TLS_CERT_FILE);
const options = { host: '127.0.0.1', port: admin || Number(env.KMS_PORT || 8080), path: process.argv[2] || '/_kms/ready', timeout: 2500 };
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

import { LOOPBACK_CIDRS, operatorAccess } from '../../src/metrics/metrics-access';

/** Who reads /_kms/metrics and /_kms/ready: KMS_METRICS_ALLOW, and only the admin port when there is one. */

it('without an admin port: the allowed addresses on the API port (the loopback by default)', () => {
  const refusal = operatorAccess({ metricsAllow: LOOPBACK_CIDRS }, '/_kms/ready');
  for (const a of ['127.0.0.1', '::1', '::ffff:127.0.0.1']) expect(refusal(8080, a)).toBeUndefined();
  expect(refusal(8080, '10.0.0.5')).toEqual({ status: 403, error: 'this address may not read /_kms/ready (KMS_METRICS_ALLOW)' });
  expect(refusal(8080, undefined)?.status).toBe(403);
});

it('with an admin port: 404 on any other port, whoever asks', () => {
  const refusal = operatorAccess({ metricsAllow: ['10.0.0.0/8'], admin: { port: 9090 } }, '/_kms/ready');
  expect(refusal(8080, '10.0.0.5')).toEqual({ status: 404, error: '/_kms/ready is served on the admin port (KMS_ADMIN_PORT)' });
  expect(refusal(9090, '10.0.0.5')).toBeUndefined();
  expect(refusal(9090, '127.0.0.1')?.status).toBe(403);
});

import * as https from 'node:https';
import { waitForRecords } from './support/audit-db';
import { KmsService } from './support/kms-service';
import { kmsClient } from './support/tencent-client';
import { TestPki } from './support/test-pki';

/** With mutual TLS, each record carries the subject of the client certificate the request came with. */

let kms: KmsService;
let servers: TestPki;
let clients: TestPki;
afterAll(async () => {
  await kms?.stop();
  servers?.remove();
  clients?.remove();
});

it('records the TLS client certificate subject', async () => {
  servers = new TestPki('kms-audit-server-ca');
  clients = new TestPki('kms-audit-client-ca');
  const server = servers.server('kms-audit-mtls');
  const client = clients.client('tenant-billing');
  kms = await KmsService.start({
    env: { KMS_TLS_CERT_FILE: server.certFile, KMS_TLS_KEY_FILE: server.keyFile, KMS_TLS_CLIENT_CA_FILE: clients.caFile },
    tls: { ca: servers.ca, cert: client.cert, key: client.key },
  });
  const cred = await kms.createAccount('audit-mtls');
  const c = kmsClient(kms.endpoint, cred, { agent: new https.Agent({ ca: servers.ca, cert: client.cert, key: client.key }) });
  const { RequestId } = await c.GetRegions();
  const { RequestId: second } = await c.ListKeys({});
  const lines = await waitForRecords(kms.env, (l) => l.some((x) => x.requestId === second));
  for (const id of [RequestId, second]) expect(lines.find((l) => l.requestId === id)).toMatchObject({ face: 'tencent', clientCert: 'CN=tenant-billing', account: cred.Uin, result: 'Success', source: '127.0.0.1' });
});

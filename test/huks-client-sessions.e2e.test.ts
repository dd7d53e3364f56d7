import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import huks, { HuksParam } from '../src/client/huks';
import { ownerOf } from '../src/api/huks/handles';
import { aesKey, buf, gcm, segments, u8, useAccount } from './support/huks-session';
import { Credential, KmsService, healthStatus } from './support/kms-service';
import { msUntil } from './support/wait';
import { setTestClock } from './support/test-clock';

/**
 * HUKS sessions on a service of three workers, through the client only: the per-account session
 * limit, idle expiry on the service's clock, many sessions whose calls land on other workers
 * than their owner, and a worker that dies.
 */
const MAX = 4;
const TTL_S = 60;
let kms: KmsService;
let clockFile: string;

beforeAll(async () => {
  clockFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'kms-huks-clock-')), 'offset');
  fs.writeFileSync(clockFile, '0');
  kms = await KmsService.start({ workers: 3, env: { KMS_TEST_CLOCK_FILE: clockFile, KMS_HUKS_MAX_SESSIONS: String(MAX), KMS_HUKS_SESSION_TTL_S: String(TTL_S) } });
});
afterAll(() => kms.stop());

const ENC = huks.HuksKeyPurpose.HUKS_KEY_PURPOSE_ENCRYPT;
const DEC = huks.HuksKeyPurpose.HUKS_KEY_PURPOSE_DECRYPT;

/** The account's client call: configure is read when the call is made, so calls of several accounts may interleave. */
function as<T>(cred: Credential, call: () => Promise<T>): Promise<T> {
  useAccount(kms, cred);
  return call();
}

async function account(name: string, key: Buffer): Promise<Credential> {
  const cred = await kms.createAccount(name);
  await as(cred, () => huks.importKeyItem('k', { properties: aesKey(256), inData: u8(key) }));
  return cred;
}

const encProps = (nonce: Buffer): HuksParam[] => gcm(ENC, { bits: 256, nonce: u8(nonce) });

it('holds an account to KMS_HUKS_MAX_SESSIONS over all workers; finish and abort free a place at once', async () => {
  const a = await account('limit-a', crypto.randomBytes(32));
  const b = await account('limit-b', crypto.randomBytes(32));
  const props = encProps(crypto.randomBytes(12));
  const handles = await Promise.all(Array.from({ length: MAX }, () => as(a, () => huks.initSession('k', { properties: props }))));
  await expect(as(a, () => huks.initSession('k', { properties: props }))).rejects.toMatchObject({ code: 12000010, reason: 'SessionLimit' });
  // Another account is not held by it.
  const other = await as(b, () => huks.initSession('k', { properties: props }));
  await as(b, () => huks.abortSession(other.handle, {}));
  await as(a, () => huks.abortSession(handles[0].handle, {}));
  const again = await as(a, () => huks.initSession('k', { properties: props }));
  await expect(as(a, () => huks.initSession('k', { properties: props }))).rejects.toMatchObject({ code: 12000010 });
  await as(a, () => huks.finishSession(handles[1].handle, { properties: props, inData: u8('x') }));
  const third = await as(a, () => huks.initSession('k', { properties: props }));
  for (const h of [again, third, handles[2], handles[3]]) await as(a, () => huks.abortSession(h.handle, {}));
});

it('expires a session idle for KMS_HUKS_SESSION_TTL_S (12000011), and frees its place', async () => {
  const a = await account('expiry', crypto.randomBytes(32));
  const props = encProps(crypto.randomBytes(12));
  const handles = await Promise.all(Array.from({ length: MAX }, () => as(a, () => huks.initSession('k', { properties: props }))));
  await as(a, () => huks.updateSession(handles[0].handle, { properties: props, inData: u8('before') }));
  try {
    // Once every worker reads the new time, no step can see the old one (and refresh the
    // session's idle time with it), and every handle answers as expired.
    await setTestClock(clockFile, TTL_S + 5);
    for (const h of handles) await expect(as(a, () => huks.finishSession(h.handle, { properties: props }))).rejects.toMatchObject({ code: 12000011, reason: 'SessionNotFound' });
    const fresh = await Promise.all(Array.from({ length: MAX }, () => as(a, () => huks.initSession('k', { properties: props }))));
    for (const h of fresh) await as(a, () => huks.abortSession(h.handle, {}));
  } finally {
    await setTestClock(clockFile, 0);
  }
});

it('streams sessions of several accounts at once, each call landing on any worker, and every result is right', async () => {
  const keys = [crypto.randomBytes(32), crypto.randomBytes(32), crypto.randomBytes(32)];
  const creds = await Promise.all(keys.map((k, i) => account(`spread-${i}`, k)));
  const jobs = creds.flatMap((cred, i) =>
    Array.from({ length: MAX }, () => ({ cred, key: keys[i], nonce: crypto.randomBytes(12), data: crypto.randomBytes(512 * 1024 + 100) })),
  );
  const owners = new Set<number>();
  const results = await Promise.all(
    jobs.map(async (j) => {
      const props = encProps(j.nonce);
      const { handle } = await as(j.cred, () => huks.initSession('k', { properties: props }));
      owners.add(ownerOf(handle).worker);
      const out: Buffer[] = [];
      for (const s of segments(j.data, 64 * 1024)) out.push(buf((await as(j.cred, () => huks.updateSession(handle, { properties: props, inData: s }))).outData));
      out.push(buf((await as(j.cred, () => huks.finishSession(handle, { properties: props }))).outData));
      return Buffer.concat(out);
    }),
  );
  expect(owners.size).toBeGreaterThanOrEqual(2);
  jobs.forEach((j, i) => {
    const c = crypto.createCipheriv('aes-256-gcm', j.key, j.nonce);
    expect(results[i].equals(Buffer.concat([c.update(j.data), c.final(), c.getAuthTag()]))).toBe(true);
  });
  // And back, in one decryption per account spread over the workers too.
  const j = jobs[0];
  const sealed = results[0];
  const dec = gcm(DEC, { bits: 256, nonce: u8(j.nonce), aeTag: u8(sealed.subarray(-16)) });
  const { handle } = await as(j.cred, () => huks.initSession('k', { properties: dec }));
  for (const s of segments(sealed.subarray(0, -16), 64 * 1024)) await as(j.cred, () => huks.updateSession(handle, { properties: dec, inData: s }));
  expect(buf((await as(j.cred, () => huks.finishSession(handle, { properties: dec }))).outData).equals(j.data)).toBe(true);
});

it('ends the sessions of a worker that dies (12000011), keeps the others, and frees their places', async () => {
  const a = await account('crash', crypto.randomBytes(32));
  const props = encProps(crypto.randomBytes(12));
  const open = () => Promise.all(Array.from({ length: MAX }, () => as(a, () => huks.initSession('k', { properties: props })))).then((hs) => hs.map((h) => h.handle));
  const step = (h: number) => as(a, () => huks.updateSession(h, { properties: props, inData: u8('x') })).then(() => 'ok', (e) => String(e.code));
  const workers = () => kms.processIds().filter((p) => p !== kms.pid);
  const respawned = (dead: number[]) => msUntil(async () => workers().filter((p) => !dead.includes(p)).length === 3, 10_000);

  // One worker dies: its sessions end, the others' go on.
  const handles = await open();
  const first = workers();
  expect(first).toHaveLength(3);
  process.kill(first[0], 'SIGKILL');
  expect(await respawned([first[0]])).toBeLessThan(Infinity);
  const answers = await Promise.all(handles.map(step));
  expect(answers.every((c) => c === 'ok' || c === '12000011')).toBe(true);

  // The other two first workers die: every session ends, and all their places are free again.
  for (const p of first.slice(1)) process.kill(p, 'SIGKILL');
  expect(await respawned(first)).toBeLessThan(Infinity);
  // With every worker that listened gone, the port is closed until a new one listens: wait for it.
  expect(await msUntil(() => healthStatus(kms.endpoint).then((s) => s === 200, () => false), 10_000)).toBeLessThan(Infinity);
  expect(await Promise.all(handles.map(step))).toEqual(handles.map(() => '12000011'));
  expect(await open()).toHaveLength(MAX);
});

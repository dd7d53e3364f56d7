import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { HuksRaw, aesProps, gcmProps } from './support/huks-raw';
import { Credential, KmsService } from './support/kms-service';
import { msUntil } from './support/wait';
import { setTestClock } from './support/test-clock';

/**
 * HUKS sessions over several workers: steps landing on other workers than their init's are
 * handed to the owner; the session limit counts over all workers; idle sessions expire on
 * the service's clock (KMS_TEST_CLOCK_FILE); a worker that dies ends its sessions.
 */
let kms: KmsService;
let cred: Credential;
let huks: HuksRaw;
let clockFile: string;

const ENCRYPT = 1;
const MAX = 4;
const WORKER = 2 ** 37;
const ownerOf = (h: number) => Math.floor(h / WORKER) % 256;

beforeAll(async () => {
  clockFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'kms-huks-clock-')), 'offset');
  fs.writeFileSync(clockFile, '0');
  kms = await KmsService.start({ workers: 3, env: { KMS_HUKS_MAX_SESSIONS: String(MAX), KMS_TEST_CLOCK_FILE: clockFile } });
  cred = await kms.createAccount('huks-workers');
  huks = new HuksRaw(kms.endpoint, cred);
  await huks.import('w-aes', aesProps(256, ENCRYPT | 2), Buffer.alloc(32, 7));
});
afterAll(() => kms.stop());

const gcm = (nonce: Buffer) => gcmProps(ENCRYPT, nonce, Buffer.from('aad'));

it('runs sessions whose steps land on any worker, as Node computes them', async () => {
  const owners = new Set<number>();
  for (let round = 0; round < 3; round++) {
    const sessions = await Promise.all(
      [0, 1, 2, 3].map(async () => {
        const nonce = crypto.randomBytes(12);
        return { nonce, handle: await huks.init('w-aes', gcm(nonce)), data: crypto.randomBytes(200_000) };
      }),
    );
    for (const s of sessions) owners.add(ownerOf(s.handle));
    await Promise.all(
      sessions.map(async (s) => {
        const out: Buffer[] = [];
        for (let at = 0; at < 150_000; at += 50_000) out.push(await huks.update(s.handle, s.data.subarray(at, at + 50_000)));
        out.push(await huks.finish(s.handle, s.data.subarray(150_000)));
        const c = crypto.createCipheriv('aes-256-gcm', Buffer.alloc(32, 7), s.nonce);
        c.setAAD(Buffer.from('aad'));
        expect(Buffer.concat(out).equals(Buffer.concat([c.update(s.data), c.final(), c.getAuthTag()]))).toBe(true);
      }),
    );
  }
  // New connections are spread over the workers: the sessions were owned by more than one.
  expect(owners.size).toBeGreaterThan(1);
});

it('counts the session limit over every worker, and abort frees a slot at once', async () => {
  const handles = [];
  for (let i = 0; i < MAX; i++) handles.push(await huks.init('w-aes', gcm(crypto.randomBytes(12))));
  const over = await huks.call('initSession', { keyAlias: 'w-aes', options: { properties: gcm(crypto.randomBytes(12)) }, nonce: crypto.randomUUID() });
  expect(over.body.error).toMatchObject({ code: 12000010, reason: 'SessionLimit' });
  expect(over.status).toBe(429);
  await huks.abort(handles.pop()!);
  handles.push(await huks.init('w-aes', gcm(crypto.randomBytes(12))));
  // Another account has its own count.
  const other = new HuksRaw(kms.endpoint, await kms.createAccount('huks-workers-2'));
  await other.import('o-aes', aesProps(128, 3), crypto.randomBytes(16));
  await other.abort(await other.init('o-aes', gcmProps(ENCRYPT, crypto.randomBytes(12), Buffer.alloc(0), 128)));
  for (const h of handles) await huks.abort(h);
});

it('expires idle sessions after KMS_HUKS_SESSION_TTL_S on the service clock, and frees their slots', async () => {
  const handles = [];
  for (let i = 0; i < MAX; i++) handles.push(await huks.init('w-aes', gcm(crypto.randomBytes(12))));
  await huks.update(handles[0], Buffer.alloc(1000));
  await setTestClock(clockFile, 61);
  try {
    for (const h of handles) expect(await huks.code('updateSession', { handle: h, options: { inData: 'AAAA' } })).toBe(12000011);
    // The slots are free again once the owners have swept (every second).
    let opened: number | undefined;
    await msUntil(async () => {
      opened = (await huks.call('initSession', { keyAlias: 'w-aes', options: { properties: gcm(crypto.randomBytes(12)) }, nonce: crypto.randomUUID() })).body.handle;
      return opened !== undefined;
    }, 5000);
    await huks.abort(opened!);
  } finally {
    await setTestClock(clockFile, 0);
  }
});

it('ends the sessions of a worker that dies; its handles answer 12000011', async () => {
  const h = await huks.init('w-aes', gcm(crypto.randomBytes(12)));
  const owner = ownerOf(h);
  // Worker ids are the cluster's: the owner is the (owner - 1)th child forked, still alive.
  const children = fs.readFileSync(`/proc/${kms.pid}/task/${kms.pid}/children`, 'utf8').trim().split(/\s+/).map(Number);
  expect(children).toHaveLength(3);
  process.kill(pidOfWorker(owner, children), 'SIGKILL');
  // A connection the dead worker held is reset: tried again.
  const answer = () => huks.call('updateSession', { handle: h, options: { inData: 'AAAA' }, nonce: crypto.randomUUID() }).catch(() => undefined);
  await msUntil(async () => (await answer())?.body.error?.code === 12000011, 10_000);
  // Its slot went with it: the account can open MAX sessions again (on the workers left and the replacement).
  const handles = [];
  while (handles.length < MAX) {
    const r = await huks.call('initSession', { keyAlias: 'w-aes', options: { properties: gcm(crypto.randomBytes(12)) }, nonce: crypto.randomUUID() }).catch(() => undefined);
    if (r) expect(r.status).toBe(200);
    if (r?.body.handle) handles.push(r.body.handle);
  }
  for (const x of handles) await huks.abort(x);
}, 30_000);

/** The pid of cluster worker `id`: workers are forked in order, so the nth child (by start time, then pid) is worker n. */
function pidOfWorker(id: number, children: number[]): number {
  const started = children.map((pid) => ({ pid, start: Number(fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ')[19]) }));
  started.sort((a, b) => a.start - b.start || a.pid - b.pid);
  return started[id - 1].pid;
}

describe.each([2, 4])('with KMS_WORKERS=%i', (workers) => {
  let other: KmsService;
  beforeAll(async () => {
    other = await KmsService.start({ workers });
  });
  afterAll(() => other.stop());

  it('streams sessions whose steps land on any worker', async () => {
    const h = new HuksRaw(other.endpoint, await other.createAccount(`huks-w${workers}`));
    const key = crypto.randomBytes(16);
    await h.import('k', aesProps(128, 3), Buffer.from(key));
    const runs = await Promise.all(
      Array.from({ length: workers * 2 }, async () => {
        const nonce = crypto.randomBytes(12);
        const handle = await h.init('k', gcmProps(ENCRYPT, nonce, Buffer.alloc(0), 128));
        const data = crypto.randomBytes(100_000);
        const out = [await h.update(handle, data.subarray(0, 30_000)), await h.update(handle, data.subarray(30_000, 60_000)), await h.finish(handle, data.subarray(60_000))];
        const c = crypto.createCipheriv('aes-128-gcm', key, nonce);
        expect(Buffer.concat(out).equals(Buffer.concat([c.update(data), c.final(), c.getAuthTag()]))).toBe(true);
        return ownerOf(handle);
      }),
    );
    expect(new Set(runs).size).toBeGreaterThan(1);
  });
});

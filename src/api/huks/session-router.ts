import cluster, { Worker } from 'node:cluster';
import { StreamNotFoundError } from '../../common/domain-errors';
import { Log } from '../../common/logger';
import { INSTANCE_TAG, WORKER_TAG, ownerOf } from './handles';
import { HuksError, huksError } from './huks-error';
import { toHuksError } from './huks-errors';
import { SessionSlots, SessionStep, SessionTable } from './session-table';

/**
 * Sessions across the workers of one instance. A step that lands on a worker other than the
 * session's owner is handed to the owner through the cluster primary over IPC and answered
 * from there; the primary also counts each account's sessions over all workers, and forgets
 * a worker's sessions when it exits (their handles then answer "no session").
 */

type WireStep = { uin: string; handle: number; step: SessionStep['step']; data: string; tag?: string; nonce?: string; aad?: string; signature: SessionStep['signature'] };
type WireAnswer = { out: string } | { error: { code: number; status: number; reason: string; message: string } };

interface ReserveMsg { kms: 'huks-reserve'; id: number; uin: string; max: number }
interface FreeMsg { kms: 'huks-free'; uin: string }
interface CallMsg { kms: 'huks-call'; id: number; to: number; call: WireStep }
interface AnswerMsg { kms: 'huks-answer'; id: number; answer: WireAnswer }
interface ReservedMsg { kms: 'huks-reserved'; id: number; ok: boolean }

const IPC_TIMEOUT_MS = 10_000;

const toWire = (s: SessionStep): WireStep => ({
  uin: s.uin,
  handle: s.handle,
  step: s.step,
  data: s.data.toString('base64'),
  tag: s.tag?.toString('base64'),
  nonce: s.nonce?.toString('base64'),
  aad: s.aad?.toString('base64'),
  signature: s.signature,
});
const b = (s: string | undefined) => (s === undefined ? undefined : Buffer.from(s, 'base64'));
const fromWire = (w: WireStep): SessionStep => ({ uin: w.uin, handle: w.handle, step: w.step, data: Buffer.from(w.data, 'base64'), tag: b(w.tag), nonce: b(w.nonce), aad: b(w.aad), signature: w.signature });

/** Without workers: counted in this process. */
export class LocalSlots implements SessionSlots {
  private readonly open = new Map<string, number>();
  reserve(uin: string, max: number): Promise<boolean> {
    const n = this.open.get(uin) ?? 0;
    if (n >= max) return Promise.resolve(false);
    this.open.set(uin, n + 1);
    return Promise.resolve(true);
  }
  free(uin: string): void {
    const n = (this.open.get(uin) ?? 1) - 1;
    if (n <= 0) this.open.delete(uin);
    else this.open.set(uin, n);
  }
}

/** In a worker: asks the primary, which counts for the instance. */
export class ClusterSlots implements SessionSlots {
  constructor(private readonly ipc: WorkerIpc) {}
  reserve(uin: string, max: number): Promise<boolean> {
    return this.ipc.ask<boolean>((id) => ({ kms: 'huks-reserve', id, uin, max }));
  }
  free(uin: string): void {
    process.send!({ kms: 'huks-free', uin } satisfies FreeMsg);
  }
}

/** A worker's side of the IPC: requests to the primary with their answers, and steps handed to this worker. */
export class WorkerIpc {
  private next = 1;
  private readonly pending = new Map<number, (v: unknown) => void>();
  private table?: SessionTable;

  constructor() {
    process.on('message', (m: ReservedMsg | AnswerMsg | CallMsg) => {
      if (m?.kms === 'huks-reserved') this.settle(m.id, m.ok);
      else if (m?.kms === 'huks-answer') this.settle(m.id, m.answer);
      else if (m?.kms === 'huks-call') void this.serve(m.call).then((answer) => process.send!({ kms: 'huks-answer', id: m.id, answer } satisfies AnswerMsg));
    });
  }

  attach(table: SessionTable): void {
    this.table = table;
  }

  ask<T>(message: (id: number) => object): Promise<T> {
    const id = this.next++;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(huksError('Unavailable', 'the service\'s primary process did not answer; retry'));
      }, IPC_TIMEOUT_MS);
      this.pending.set(id, (v) => {
        clearTimeout(timer);
        resolve(v as T);
      });
      process.send!(message(id));
    });
  }

  private settle(id: number, v: unknown): void {
    this.pending.get(id)?.(v);
    this.pending.delete(id);
  }

  /** A step another worker received for a session of this one. */
  private async serve(w: WireStep): Promise<WireAnswer> {
    try {
      if (!this.table) throw new StreamNotFoundError('no open session has this handle');
      return { out: (await this.table.run(fromWire(w))).toString('base64') };
    } catch (e) {
      const h = toHuksError(e, 'forwarded', w.step);
      return { error: { code: h.code, status: h.status, reason: h.reason, message: h.message } };
    }
  }
}

/** Runs a step where its session lives: here, in another worker, or (refused) in another instance. */
export class SessionRouter {
  constructor(private readonly table: SessionTable, private readonly ipc?: WorkerIpc) {}

  async run(s: SessionStep): Promise<Buffer> {
    const owner = ownerOf(s.handle);
    if (owner.instance !== INSTANCE_TAG) {
      throw new StreamNotFoundError('this handle belongs to another instance of the service: route every request of a credential to one instance (docs/huks-protocol.md, Sessions)', true);
    }
    if (owner.worker === WORKER_TAG || !this.ipc) return this.table.run(s);
    const answer = await this.ipc.ask<WireAnswer>((id) => ({ kms: 'huks-call', id, to: owner.worker, call: toWire(s) }) satisfies CallMsg);
    if ('error' in answer) throw new HuksError(answer.error.code, answer.error.status, answer.error.reason, answer.error.message);
    return Buffer.from(answer.out, 'base64');
  }
}

let served = false;

/** In the primary: counts sessions per account over the workers, and hands steps to their owners. */
export function serveSessionsPrimary(): void {
  if (served) return;
  served = true;
  // account -> worker id -> open sessions
  const open = new Map<string, Map<number, number>>();
  const count = (uin: string) => [...(open.get(uin)?.values() ?? [])].reduce((a, n) => a + n, 0);
  let next = 1;
  // A step handed on: primary id -> who asked, and which worker answers.
  const relayed = new Map<number, { from: Worker; id: number; to: number }>();
  const answerTo = (from: Worker, id: number, answer: WireAnswer) => {
    if (from.isConnected()) from.send({ kms: 'huks-answer', id, answer } satisfies AnswerMsg);
  };
  const gone = (): WireAnswer => {
    const e = huksError('SessionNotFound', 'no open session has this handle (its worker has stopped)');
    return { error: { code: e.code, status: e.status, reason: e.reason, message: e.message } };
  };

  cluster.on('message', (w: Worker, m: ReserveMsg | FreeMsg | CallMsg | AnswerMsg) => {
    switch (m?.kms) {
      case 'huks-reserve': {
        const ok = count(m.uin) < m.max;
        if (ok) {
          const byWorker = open.get(m.uin) ?? new Map<number, number>();
          byWorker.set(w.id, (byWorker.get(w.id) ?? 0) + 1);
          open.set(m.uin, byWorker);
        }
        w.send({ kms: 'huks-reserved', id: m.id, ok } satisfies ReservedMsg);
        return;
      }
      case 'huks-free': {
        const byWorker = open.get(m.uin);
        const n = (byWorker?.get(w.id) ?? 0) - 1;
        if (!byWorker) return;
        if (n > 0) byWorker.set(w.id, n);
        else byWorker.delete(w.id);
        if (byWorker.size === 0) open.delete(m.uin);
        return;
      }
      case 'huks-call': {
        const target = Object.values(cluster.workers ?? {}).find((x) => x && x.id % 256 === m.to && x.isConnected());
        if (!target) return answerTo(w, m.id, gone());
        const id = next++;
        relayed.set(id, { from: w, id: m.id, to: target.id });
        target.send({ kms: 'huks-call', id, to: m.to, call: m.call } satisfies CallMsg);
        return;
      }
      case 'huks-answer': {
        const r = relayed.get(m.id);
        if (!r) return;
        relayed.delete(m.id);
        answerTo(r.from, r.id, m.answer);
        return;
      }
    }
  });

  // A worker that exits takes its sessions (and their token sessions) with it.
  cluster.on('exit', (w: Worker) => {
    for (const [uin, byWorker] of open) {
      byWorker.delete(w.id);
      if (byWorker.size === 0) open.delete(uin);
    }
    for (const [id, r] of relayed) {
      if (r.to !== w.id) continue;
      relayed.delete(id);
      answerTo(r.from, r.id, gone());
    }
    Log.debug('a worker\'s sessions ended with it', { worker: w.id });
  });
}

import cluster, { Worker } from 'node:cluster';

/**
 * What a worker needs from the primary but must not inherit through its environment, which
 * /proc/PID/environ shows for the life of the process. It travels over the cluster's IPC
 * channel, a socket pair that only the primary and that worker hold.
 */
export interface WorkerSecrets {
  hsmPin?: string;
}

const ASK = 'secrets?';
const ANSWER = 'secrets';

/** In the primary: answer each worker that asks. */
export function answerSecretRequests(secrets: WorkerSecrets): void {
  cluster.on('message', (w: Worker, m: { kms?: string }) => {
    if (m?.kms === ASK) w.send({ kms: ANSWER, ...secrets });
  });
}

/** In a worker: ask the primary (asking, rather than waiting, cannot miss a message sent before the listener existed). */
export function requestSecrets(): Promise<WorkerSecrets> {
  return new Promise((resolve) => {
    const onMessage = (m: { kms?: string } & WorkerSecrets) => {
      if (m?.kms !== ANSWER) return;
      process.off('message', onMessage);
      resolve({ hsmPin: m.hsmPin });
    };
    process.on('message', onMessage);
    process.send!({ kms: ASK });
  });
}

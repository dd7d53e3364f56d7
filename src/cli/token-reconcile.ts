import type { INestApplicationContext } from '@nestjs/common';
import { ReconcileReport, TokenReconciler, objectKeys } from '../keys/token-reconciler';

/** Runs a function on the core, recording the command in the audit trail with `keys` from its result. */
type OnCore = (fn: (ctx: INestApplicationContext) => Promise<ReconcileReport>, action: string, keys: (r: ReconcileReport) => string) => Promise<ReconcileReport>;

/**
 * `kms token reconcile [--fix]`: the token objects the service made that no row owns (left by
 * a crash), as JSON; with `--fix` they are destroyed. Objects of calls still in flight
 * (younger than KMS_TOKEN_RECONCILE_GRACE_S) are counted, not listed.
 */
export async function tokenReconcile(fix: boolean, onCore: OnCore): Promise<object> {
  const r = await onCore((ctx) => ctx.get(TokenReconciler).reconcile(fix), fix ? 'token reconcile --fix' : 'token reconcile', (x) => x.removed.map(objectKeys).join(' '));
  return { Orphans: r.orphans.map((o) => ({ Id: o.id, Label: o.label })), Removed: r.removed.map((o) => o.id), InFlight: r.inFlight };
}

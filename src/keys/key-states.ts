import { KeyDisabledError, KeyNotPendingDeleteError, KeyShouldBeDisabledError, KeyStateError } from '../common/domain-errors';

export type KeyState = 'Enabled' | 'Disabled' | 'PendingDelete' | 'PendingImport' | 'Archived';
export type KeyOperation =
  | 'Encrypt'
  | 'Decrypt'
  | 'Sign'
  | 'Enable'
  | 'Disable'
  | 'Archive'
  | 'CancelArchive'
  | 'ScheduleDeletion'
  | 'CancelDeletion'
  | 'Update'
  | 'Bind'
  | 'EnableRotation'
  | 'DisableRotation'
  | 'Rotate'
  | 'GetImportParameters'
  | 'Import'
  | 'DeleteMaterial';

/**
 * Which states allow which operation; docs/key-states.md is the same table for readers.
 * A Disabled key refuses use with the "disabled" error, a deletion of a key still in use
 * with "should be disabled", a cancellation of a deletion that is not pending with its own
 * error, and every other forbidden state with the generic state error.
 */
const ALLOWED: Record<KeyOperation, readonly KeyState[]> = {
  Encrypt: ['Enabled'],
  Decrypt: ['Enabled', 'Archived'],
  // Signing makes new data, as Encrypt does; verification and public keys follow Encrypt.
  Sign: ['Enabled'],
  Enable: ['Enabled', 'Disabled'],
  Disable: ['Enabled', 'Disabled'],
  Archive: ['Enabled', 'Disabled'],
  CancelArchive: ['Archived'],
  // A key still waiting for imported material has nothing to protect and may go too.
  ScheduleDeletion: ['Disabled', 'PendingImport'],
  CancelDeletion: ['PendingDelete'],
  Update: ['Enabled', 'Disabled', 'PendingImport', 'Archived'],
  Bind: ['Enabled', 'Disabled', 'Archived'],
  // Archived keys cannot start rotating; stopping is always possible.
  EnableRotation: ['Enabled', 'Disabled'],
  DisableRotation: ['Enabled', 'Disabled', 'Archived', 'PendingImport'],
  Rotate: ['Enabled'],
  GetImportParameters: ['Enabled', 'Disabled', 'PendingImport'],
  // As documented: only Enabled (re-import of the same material) and PendingImport keys.
  Import: ['Enabled', 'PendingImport'],
  DeleteMaterial: ['Enabled', 'Disabled', 'PendingImport'],
};

/** Operations that a binding to a cloud resource forbids. */
export const BLOCKED_BY_BINDING: ReadonlySet<KeyOperation> = new Set(['Disable', 'Archive', 'ScheduleDeletion', 'DeleteMaterial']);

export function isAllowed(state: string, op: KeyOperation): boolean {
  return (ALLOWED[op] as readonly string[]).includes(state);
}

export function assertAllowed(state: string, op: KeyOperation): void {
  if (isAllowed(state, op)) return;
  if (state === 'Disabled' && (op === 'Encrypt' || op === 'Decrypt')) throw new KeyDisabledError('the CMK is disabled');
  if (op === 'ScheduleDeletion' && (state === 'Enabled' || state === 'Archived')) throw new KeyShouldBeDisabledError(`a CMK must be disabled before its deletion is scheduled; it is ${state}`);
  if (op === 'CancelDeletion') throw new KeyNotPendingDeleteError(`the CMK is ${state}, not PendingDelete`);
  throw new KeyStateError(state, op);
}

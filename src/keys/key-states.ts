import { KeyDisabledError, KeyStateError } from '../common/domain-errors';

export type KeyState = 'Enabled' | 'Disabled' | 'PendingDelete' | 'PendingImport' | 'Archived';
export type KeyOperation = 'Encrypt' | 'Decrypt' | 'Enable' | 'Disable';

/**
 * Which states allow which operation; docs/key-states.md is the same table for readers.
 * A Disabled key refuses use with the dedicated "disabled" error, every other forbidden
 * state with the generic state error.
 */
const ALLOWED: Record<KeyOperation, readonly KeyState[]> = {
  Encrypt: ['Enabled'],
  Decrypt: ['Enabled', 'Archived'],
  Enable: ['Enabled', 'Disabled'],
  Disable: ['Enabled', 'Disabled'],
};

export function assertAllowed(state: string, op: KeyOperation): void {
  if ((ALLOWED[op] as readonly string[]).includes(state)) return;
  if (state === 'Disabled' && (op === 'Encrypt' || op === 'Decrypt')) throw new KeyDisabledError('the CMK is disabled');
  throw new KeyStateError(state, op);
}

import * as pkcs11 from 'pkcs11js';
import { ckrOf } from './hsm-errors';
import { Handle, Pkcs11 } from './token';

/** Every object that matches `template`, in batches (a module may cap one C_FindObjects). */
export function findHandles(m: Pkcs11, s: Handle, template: pkcs11.Template): Handle[] {
  m.C_FindObjectsInit(s, template);
  const handles: Handle[] = [];
  try {
    for (let batch = m.C_FindObjects(s, 10_000); batch.length > 0; batch = m.C_FindObjects(s, 10_000)) handles.push(...batch);
  } finally {
    m.C_FindObjectsFinal(s);
  }
  return handles;
}

/**
 * Reads each found object, leaving out one that answers CKR_OBJECT_HANDLE_INVALID: another
 * process (a worker, a `kms` command) destroyed it since C_FindObjects (SoftHSM keeps each
 * object in a file, and notices it gone at the next read). C_FindObjects itself leaves out
 * objects SoftHSM cannot read, so a listing shows the objects that are there as it reads them.
 */
export function readEach<T>(handles: Handle[], read: (h: Handle) => T): T[] {
  const listed: T[] = [];
  for (const h of handles) {
    try {
      listed.push(read(h));
    } catch (e) {
      if (ckrOf(e) !== pkcs11.CKR_OBJECT_HANDLE_INVALID) throw e;
    }
  }
  return listed;
}

'use strict';
/**
 * Run by test/support/embedded-token.ts in a process of its own (Jest gives tests a copy of
 * process.env, so SoftHSM, which reads SOFTHSM2_CONF from the real environment, cannot be
 * pointed at a service's token from inside a test). Usage, with SOFTHSM2_CONF set:
 *
 *   node embedded-token-tool.js <module> <label> <pin-file> list <privateKey|secretKey>
 *   node embedded-token-tool.js <module> <label> <pin-file> destroy <privateKey|secretKey> <CKA_ID>
 *
 * Prints JSON on stdout. Logs in as the service does, and finalizes before exiting.
 */
const fs = require('node:fs');
const pkcs11 = require('pkcs11js');

const [modulePath, label, pinFile, op, cls, id] = process.argv.slice(2);
const CLASSES = { privateKey: pkcs11.CKO_PRIVATE_KEY, secretKey: pkcs11.CKO_SECRET_KEY };
/** The usage attributes each class has (asking a private key for CKA_ENCRYPT is an error). */
const USAGE = {
  privateKey: [['decrypt', pkcs11.CKA_DECRYPT], ['sign', pkcs11.CKA_SIGN], ['signRecover', pkcs11.CKA_SIGN_RECOVER], ['unwrap', pkcs11.CKA_UNWRAP], ['derive', pkcs11.CKA_DERIVE]],
  secretKey: [['encrypt', pkcs11.CKA_ENCRYPT], ['decrypt', pkcs11.CKA_DECRYPT], ['sign', pkcs11.CKA_SIGN], ['verify', pkcs11.CKA_VERIFY], ['wrap', pkcs11.CKA_WRAP], ['unwrap', pkcs11.CKA_UNWRAP], ['derive', pkcs11.CKA_DERIVE]],
}[cls];
if (!(cls in CLASSES) || (op !== 'list' && op !== 'destroy')) throw new Error(`usage: ${process.argv.slice(2).join(' ')}`);

/** Cryptoki booleans come back as one raw byte. */
const bool = (v) => Buffer.isBuffer(v) && v.length > 0 && v[0] !== 0;

function find(m, session, template) {
  m.C_FindObjectsInit(session, template);
  try {
    const found = [];
    for (let batch = m.C_FindObjects(session, 100); batch.length > 0; batch = m.C_FindObjects(session, 100)) found.push(...batch);
    return found;
  } finally {
    m.C_FindObjectsFinal(session);
  }
}

function list(m, session) {
  return find(m, session, [{ type: pkcs11.CKA_CLASS, value: CLASSES[cls] }]).map((h) => {
    const [lab, cid, sensitive, alwaysSensitive, extractable, neverExtractable, ...usage] = m.C_GetAttributeValue(session, h, [
      { type: pkcs11.CKA_LABEL },
      { type: pkcs11.CKA_ID },
      { type: pkcs11.CKA_SENSITIVE },
      { type: pkcs11.CKA_ALWAYS_SENSITIVE },
      { type: pkcs11.CKA_EXTRACTABLE },
      { type: pkcs11.CKA_NEVER_EXTRACTABLE },
      ...USAGE.map(([, type]) => ({ type })),
    ]);
    return {
      label: lab.value.toString(),
      id: cid.value.toString(),
      usage: USAGE.filter((_, i) => bool(usage[i].value)).map(([name]) => name),
      sensitive: bool(sensitive.value),
      alwaysSensitive: bool(alwaysSensitive.value),
      extractable: bool(extractable.value),
      neverExtractable: bool(neverExtractable.value),
    };
  });
}

function destroy(m, session) {
  const found = find(m, session, [
    { type: pkcs11.CKA_CLASS, value: CLASSES[cls] },
    { type: pkcs11.CKA_ID, value: Buffer.from(id) },
  ]);
  if (found.length !== 1) throw new Error(`expected one ${cls} with CKA_ID ${id} on the token, found ${found.length}`);
  m.C_DestroyObject(session, found[0]);
  return { destroyed: id };
}

const m = new pkcs11.PKCS11();
m.load(modulePath);
m.C_Initialize({ flags: pkcs11.CKF_OS_LOCKING_OK });
try {
  const slot = m.C_GetSlotList(true).find((s) => m.C_GetTokenInfo(s).label.replace(/[\0 ]+$/, '') === label);
  if (slot === undefined) throw new Error(`no token labelled "${label}" (SOFTHSM2_CONF=${process.env.SOFTHSM2_CONF})`);
  const session = m.C_OpenSession(slot, pkcs11.CKF_SERIAL_SESSION | pkcs11.CKF_RW_SESSION);
  m.C_Login(session, pkcs11.CKU_USER, fs.readFileSync(pinFile, 'utf8').trim());
  process.stdout.write(JSON.stringify(op === 'list' ? list(m, session) : destroy(m, session)));
} finally {
  m.C_Finalize();
  m.close();
}

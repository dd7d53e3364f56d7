'use strict';
/**
 * Run by test/support/embedded-token.ts in a process of its own (Jest gives tests a copy of
 * process.env, so SoftHSM, which reads SOFTHSM2_CONF from the real environment, cannot be
 * pointed at a service's token from inside a test). Usage, with SOFTHSM2_CONF set:
 *
 *   node embedded-token-tool.js <module> <label> <pin-file> list <privateKey|secretKey>
 *   node embedded-token-tool.js <module> <label> <pin-file> destroy <privateKey|secretKey> <CKA_ID>
 *   node embedded-token-tool.js <module> <label> <pin-file> wrap <privateKey|secretKey> <CKA_ID> <untrusted|KEK's CKA_ID>
 *   node embedded-token-tool.js <module> <label> <pin-file> create secretKey <CKA_ID> <CKA_LABEL>
 *   node embedded-token-tool.js <module> <label> <pin-file> unwrap secretKey <stored blob, base64> <KEK's CKA_ID>
 *   node embedded-token-tool.js <module> <label> <pin-file> plant secretKey <CKA_ID>
 *   node embedded-token-tool.js <module> <label> <pin-file> fill secretKey <CKA_LABEL> <count>
 *   node embedded-token-tool.js <module> <label> <pin-file> drain secretKey <CKA_LABEL> <milliseconds between two> <stop file>
 *
 * Prints JSON on stdout. Logs in as the service does, and finalizes before exiting.
 */
const fs = require('node:fs');
const pkcs11 = require('pkcs11js');

const [modulePath, label, pinFile, op, cls, id, arg, stopFile] = process.argv.slice(2);
// `arg`: the wrapper of `wrap` and `unwrap` (untrusted or a KEK's CKA_ID), the label of `create`, the count of `fill`, the pause of `drain`.
const wrapper = arg;
const CLASSES = { privateKey: pkcs11.CKO_PRIVATE_KEY, secretKey: pkcs11.CKO_SECRET_KEY };
/** The usage attributes each class has (asking a private key for CKA_ENCRYPT is an error). */
const USAGE = {
  privateKey: [['decrypt', pkcs11.CKA_DECRYPT], ['sign', pkcs11.CKA_SIGN], ['signRecover', pkcs11.CKA_SIGN_RECOVER], ['unwrap', pkcs11.CKA_UNWRAP], ['derive', pkcs11.CKA_DERIVE]],
  secretKey: [['encrypt', pkcs11.CKA_ENCRYPT], ['decrypt', pkcs11.CKA_DECRYPT], ['sign', pkcs11.CKA_SIGN], ['verify', pkcs11.CKA_VERIFY], ['wrap', pkcs11.CKA_WRAP], ['unwrap', pkcs11.CKA_UNWRAP], ['derive', pkcs11.CKA_DERIVE]],
}[cls];
if (!(cls in CLASSES) || !['list', 'destroy', 'wrap', 'create', 'unwrap', 'plant', 'fill', 'drain'].includes(op) || (['create', 'fill', 'drain'].includes(op) && cls !== 'secretKey')) throw new Error(`usage: ${process.argv.slice(2).join(' ')}`);

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

/**
 * The token objects of the class, as the service's own listings read them (src/hsm/object-search.ts):
 * finished objects only (CKA_TOKEN true), leaving out one the service destroys before it is read.
 */
function list(m, session) {
  return find(m, session, [{ type: pkcs11.CKA_CLASS, value: CLASSES[cls] }, { type: pkcs11.CKA_TOKEN, value: true }]).flatMap((h) => {
    try {
      return [describe(m, session, h)];
    } catch (e) {
      if (e.code === pkcs11.CKR_OBJECT_HANDLE_INVALID) return [];
      throw e;
    }
  });
}

/** One object's label, id, usages and protection attributes. */
function describe(m, session, h) {
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

/**
 * Tries to wrap the object with CKA_AES_KEY_WRAP_PAD under `wrapper`: a fresh session AES key
 * able to wrap but not trusted ("untrusted"), or the token object with that CKA_ID (a KEK).
 * Answers {wrapped: bytes} or {error: the CKR name}.
 */
function wrap(m, session) {
  const [key] = find(m, session, [{ type: pkcs11.CKA_CLASS, value: CLASSES[cls] }, { type: pkcs11.CKA_ID, value: Buffer.from(id) }]);
  const off = [pkcs11.CKA_ENCRYPT, pkcs11.CKA_DECRYPT, pkcs11.CKA_UNWRAP, pkcs11.CKA_SIGN, pkcs11.CKA_VERIFY, pkcs11.CKA_DERIVE].map((type) => ({ type, value: false }));
  const by =
    wrapper === 'untrusted'
      ? m.C_GenerateKey(session, { mechanism: pkcs11.CKM_AES_KEY_GEN }, [{ type: pkcs11.CKA_CLASS, value: pkcs11.CKO_SECRET_KEY }, { type: pkcs11.CKA_KEY_TYPE, value: pkcs11.CKK_AES }, { type: pkcs11.CKA_VALUE_LEN, value: 32 }, { type: pkcs11.CKA_TOKEN, value: false }, { type: pkcs11.CKA_WRAP, value: true }, ...off])
      : find(m, session, [{ type: pkcs11.CKA_ID, value: Buffer.from(wrapper) }])[0];
  try {
    return { wrapped: m.C_WrapKey(session, { mechanism: pkcs11.CKM_AES_KEY_WRAP_PAD }, by, key, Buffer.alloc(4096)).length };
  } catch (e) {
    return { error: e.message.split(':')[0] };
  }
}

/** A persistent AES-256 key as a crash could leave one (sensitive, not extractable, every usage explicit): its handle. */
function generate(m, session, objectLabel, objectId) {
  const usage = USAGE.map(([, type]) => ({ type, value: type === pkcs11.CKA_ENCRYPT || type === pkcs11.CKA_DECRYPT }));
  return m.C_GenerateKey(session, { mechanism: pkcs11.CKM_AES_KEY_GEN }, [
    { type: pkcs11.CKA_CLASS, value: pkcs11.CKO_SECRET_KEY },
    { type: pkcs11.CKA_KEY_TYPE, value: pkcs11.CKK_AES },
    { type: pkcs11.CKA_VALUE_LEN, value: 32 },
    { type: pkcs11.CKA_ID, value: Buffer.from(objectId) },
    { type: pkcs11.CKA_LABEL, value: objectLabel },
    { type: pkcs11.CKA_TOKEN, value: true },
    { type: pkcs11.CKA_PRIVATE, value: true },
    { type: pkcs11.CKA_SENSITIVE, value: true },
    { type: pkcs11.CKA_EXTRACTABLE, value: false },
    ...usage,
  ]);
}

function create(m, session) {
  generate(m, session, arg, id);
  return { created: id };
}

/**
 * What someone with the user PIN and the database would try: the AES key inside a stored blob
 * (see src/hsm/wrapping.ts for its layout) unwrapped by its KEK into a readable, extractable
 * key. Answers {value: its length} or {error: the CKR name}.
 */
function unwrap(m, session) {
  const blob = Buffer.from(id, 'base64');
  const payload = blob.subarray(5 + blob[4] + 9);
  const [kek] = find(m, session, [{ type: pkcs11.CKA_ID, value: Buffer.from(wrapper) }]);
  try {
    const key = m.C_UnwrapKey(session, { mechanism: pkcs11.CKM_AES_KEY_WRAP_PAD }, kek, payload, [
      { type: pkcs11.CKA_CLASS, value: pkcs11.CKO_SECRET_KEY },
      { type: pkcs11.CKA_KEY_TYPE, value: pkcs11.CKK_AES },
      { type: pkcs11.CKA_TOKEN, value: false },
      { type: pkcs11.CKA_SENSITIVE, value: false },
      { type: pkcs11.CKA_EXTRACTABLE, value: true },
    ]);
    return { value: m.C_GetAttributeValue(session, key, [{ type: pkcs11.CKA_VALUE }])[0].value.length };
  } catch (e) {
    return { error: e.message.split(':')[0] };
  }
}

/** A public AES token object named `id`, able to unwrap: what a crash left of a KEK in earlier releases. */
function plant(m, session) {
  const off = [pkcs11.CKA_ENCRYPT, pkcs11.CKA_DECRYPT, pkcs11.CKA_WRAP, pkcs11.CKA_SIGN, pkcs11.CKA_VERIFY, pkcs11.CKA_DERIVE].map((type) => ({ type, value: false }));
  m.C_GenerateKey(session, { mechanism: pkcs11.CKM_AES_KEY_GEN }, [
    { type: pkcs11.CKA_CLASS, value: pkcs11.CKO_SECRET_KEY },
    { type: pkcs11.CKA_KEY_TYPE, value: pkcs11.CKK_AES },
    { type: pkcs11.CKA_VALUE_LEN, value: 32 },
    { type: pkcs11.CKA_ID, value: Buffer.from(id) },
    { type: pkcs11.CKA_LABEL, value: id },
    { type: pkcs11.CKA_TOKEN, value: true },
    { type: pkcs11.CKA_PRIVATE, value: false },
    { type: pkcs11.CKA_SENSITIVE, value: true },
    { type: pkcs11.CKA_EXTRACTABLE, value: false },
    { type: pkcs11.CKA_UNWRAP, value: true },
    ...off,
  ]);
  return { planted: id };
}

/** Another application's keys: `arg` of them labelled `id` (the CKA_ID of each is `<id>-<n>`). */
function fill(m, session) {
  const count = Number(arg);
  for (let n = 0; n < count; n++) generate(m, session, id, `${id}-${n}`);
  return { made: count };
}

/** Another application destroying its keys labelled `id`, one at a time, `arg` ms apart, until none is left or `stopFile` exists; `<stopFile>.started` once the first is gone. */
function drain(m, session) {
  const keys = find(m, session, [{ type: pkcs11.CKA_LABEL, value: Buffer.from(id) }]);
  const pause = new Int32Array(new SharedArrayBuffer(4));
  let destroyed = 0;
  for (; destroyed < keys.length && !fs.existsSync(stopFile); destroyed++) {
    m.C_DestroyObject(session, keys[destroyed]);
    if (destroyed === 0) fs.writeFileSync(`${stopFile}.started`, '');
    Atomics.wait(pause, 0, 0, Number(arg));
  }
  return { destroyed, left: keys.length - destroyed };
}

const OPS = { list, destroy, wrap, create, unwrap, plant, fill, drain };
const m = new pkcs11.PKCS11();
m.load(modulePath);
m.C_Initialize({ flags: pkcs11.CKF_OS_LOCKING_OK });
try {
  const slot = m.C_GetSlotList(true).find((s) => m.C_GetTokenInfo(s).label.replace(/[\0 ]+$/, '') === label);
  if (slot === undefined) throw new Error(`no token labelled "${label}" (SOFTHSM2_CONF=${process.env.SOFTHSM2_CONF})`);
  const session = m.C_OpenSession(slot, pkcs11.CKF_SERIAL_SESSION | pkcs11.CKF_RW_SESSION);
  m.C_Login(session, pkcs11.CKU_USER, fs.readFileSync(pinFile, 'utf8').trim());
  process.stdout.write(JSON.stringify(OPS[op](m, session)));
} finally {
  m.C_Finalize();
  m.close();
}

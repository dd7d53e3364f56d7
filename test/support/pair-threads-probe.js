'use strict';
/**
 * Makes `count` RSA-2048 token key pairs with the service's own code (dist/src/hsm/rsa.js:
 * on libuv's thread pool) while the main thread searches the token without pause (unless
 * <searching> is `quiet`), on the
 * SoftHSM token labelled <label> (SOFTHSM2_CONF set by the caller: SoftHSM reads it in this
 * process, which Jest's sandboxed process.env would not reach). Prints JSON: the failures, the
 * searches made meanwhile, each private key's attributes, and the session objects left.
 *
 *   node pair-threads-probe.js <module> <label> <pin> <count> [searching|quiet]
 */
const pkcs11 = require('pkcs11js');
const { generateRsaPair } = require('../../dist/src/hsm/rsa');

const [modulePath, label, pin, count, searching = 'searching'] = process.argv.slice(2);
const m = new pkcs11.PKCS11();
m.load(modulePath);
m.C_Initialize({ flags: pkcs11.CKF_OS_LOCKING_OK });

function find(s, template) {
  m.C_FindObjectsInit(s, template);
  try {
    return m.C_FindObjects(s, 1000);
  } finally {
    m.C_FindObjectsFinal(s);
  }
}

async function main() {
  const slot = m.C_GetSlotList(true).find((x) => m.C_GetTokenInfo(x).label.trim() === label);
  const open = () => m.C_OpenSession(slot, pkcs11.CKF_SERIAL_SESSION | pkcs11.CKF_RW_SESSION);
  const session = open();
  m.C_Login(session, pkcs11.CKU_USER, pin);
  const searcher = open();
  let searches = 0;
  let done = false;
  const search = () => {
    if (done || searching === 'quiet') return;
    find(searcher, [{ type: pkcs11.CKA_ID, value: Buffer.from('none') }]);
    searches++;
    setImmediate(search);
  };
  search();
  const failures = [];
  for (let n = 0; n < Number(count); n++) {
    await generateRsaPair(m, session, Buffer.from(`pair-${n}`), `pair ${n}`, true, pkcs11.CKA_UNWRAP).catch((e) => failures.push(e.message));
  }
  done = true;
  const names = { token: pkcs11.CKA_TOKEN, private: pkcs11.CKA_PRIVATE, alwaysSensitive: pkcs11.CKA_ALWAYS_SENSITIVE, neverExtractable: pkcs11.CKA_NEVER_EXTRACTABLE, local: pkcs11.CKA_LOCAL, modifiable: pkcs11.CKA_MODIFIABLE, unwrap: pkcs11.CKA_UNWRAP, decrypt: pkcs11.CKA_DECRYPT, sign: pkcs11.CKA_SIGN };
  const privateKeys = find(session, [{ type: pkcs11.CKA_CLASS, value: pkcs11.CKO_PRIVATE_KEY }]).map((h) => {
    const values = m.C_GetAttributeValue(session, h, Object.values(names).map((type) => ({ type })));
    return Object.fromEntries(Object.keys(names).map((name, i) => [name, values[i].value[0] === 1]));
  });
  const sessionObjects = find(session, [{ type: pkcs11.CKA_TOKEN, value: false }]).length;
  return { failures, searches, privateKeys, sessionObjects };
}

main()
  .then((r) => process.stdout.write(JSON.stringify(r)))
  .finally(() => m.C_Finalize());

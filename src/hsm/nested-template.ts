import koffi from 'koffi';
import * as pkcs11 from 'pkcs11js';
import { HsmError, translate } from './hsm-errors';
import { Handle } from './token';

/**
 * C_GenerateKey with a template that holds a template (CKA_UNWRAP_TEMPLATE), which pkcs11js
 * 2.x cannot pass: it copies each attribute value as bytes, so an array of CK_ATTRIBUTE, whose
 * entries point at their values, never reaches the token intact. The call goes through the
 * module's own function list (the library pkcs11js loaded, so the same sessions), built with
 * an FFI; everything else stays on pkcs11js.
 */

export interface NestedAttribute {
  type: number;
  value: boolean | number | Buffer | string | NestedAttribute[];
}

const CK_ATTRIBUTE = koffi.struct('kms_CK_ATTRIBUTE', { type: 'unsigned long', pValue: 'void *', ulValueLen: 'unsigned long' });
const CK_MECHANISM = koffi.struct('kms_CK_MECHANISM', { mechanism: 'unsigned long', pParameter: 'void *', ulParameterLen: 'unsigned long' });
const C_GenerateKey = koffi.proto('unsigned long kms_C_GenerateKey(unsigned long hSession, kms_CK_MECHANISM *pMechanism, kms_CK_ATTRIBUTE *pTemplate, unsigned long ulCount, _Out_ unsigned long *phKey)');
/** C_GenerateKey's place in CK_FUNCTION_LIST, after the 2-byte version padded to a pointer. */
const GENERATE_KEY_INDEX = 58;
const ULONG_BYTES = koffi.sizeof('unsigned long');
const POINTER_BYTES = koffi.sizeof('void *');

const libraries = new Map<string, unknown>();

function functionList(modulePath: string): unknown {
  let list = libraries.get(modulePath);
  if (list === undefined) {
    const lib = koffi.load(modulePath);
    const out: unknown[] = [null];
    const rv = lib.func('unsigned long C_GetFunctionList(_Out_ void **ppFunctionList)')(out) as number;
    if (rv !== 0 || !out[0]) throw new HsmError(`C_GetFunctionList of ${modulePath} failed (0x${rv.toString(16)})`);
    list = out[0];
    libraries.set(modulePath, list);
  }
  return list;
}

/** A handle as pkcs11js keeps it: the CK_ULONG's bytes, little-endian. */
const toHandle = (n: number): Handle => {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(BigInt(n));
  return b.subarray(0, ULONG_BYTES);
};
const fromHandle = (h: Handle): number => Number(h.length >= 8 ? h.readBigUInt64LE(0) : h.readUInt32LE(0));

export function generateKeyNested(modulePath: string, session: Handle, mechanism: number, template: NestedAttribute[]): Handle {
  const allocated: unknown[] = [];
  const alloc = (type: unknown, n: number, value: unknown) => {
    const p = koffi.alloc(type as koffi.IKoffiCType, n);
    allocated.push(p);
    koffi.encode(p, koffi.array(type as koffi.IKoffiCType, n), value);
    return p;
  };
  const encode = (attrs: NestedAttribute[]): Array<{ type: number; pValue: unknown; ulValueLen: number }> =>
    attrs.map(({ type, value }) => {
      if (Array.isArray(value)) {
        const inner = encode(value);
        return { type, pValue: alloc(CK_ATTRIBUTE, inner.length, inner), ulValueLen: inner.length * koffi.sizeof(CK_ATTRIBUTE) };
      }
      let bytes: Buffer;
      if (typeof value === 'boolean') bytes = Buffer.from([value ? 1 : 0]);
      else if (typeof value === 'number') bytes = toHandle(value);
      else bytes = Buffer.from(value);
      return { type, pValue: alloc('uint8_t', bytes.length, [...bytes]), ulValueLen: bytes.length };
    });
  try {
    const attrs = encode(template);
    const fn = koffi.decode(functionList(modulePath), (1 + GENERATE_KEY_INDEX) * POINTER_BYTES, 'void *');
    const out = [0];
    const rv = koffi.call(fn, C_GenerateKey, fromHandle(session), { mechanism, pParameter: null, ulParameterLen: 0 }, attrs, attrs.length, out) as number;
    if (rv !== 0) throw translate(new pkcs11.Pkcs11Error(`CKR 0x${rv.toString(16)}`, rv, 'C_GenerateKey'));
    return toHandle(out[0]);
  } finally {
    for (const p of allocated) koffi.free(p);
  }
}

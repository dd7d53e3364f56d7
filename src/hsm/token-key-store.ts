import * as crypto from 'node:crypto';
import * as pkcs11 from 'pkcs11js';
import { InvalidCiphertextError, MaterialDecryptError } from '../common/domain-errors';
import { gcmDecrypt, gcmEncrypt, generateAesKey, generateRandom } from './aes';
import { HsmDataInvalidError, HsmError, HsmObjectNotFoundError, ckrOf } from './hsm-errors';
import { CreatedMaterial, ImportedMaterial, KeyStore, MaterialAttributes, MaterialAudit, MaterialRef, WRAPPING_ALGORITHMS, WrappingAlgorithm } from './key-store';
import { generateHmacKey, hmacSign, hmacVerify } from './hmac';
import { keyHasLength } from './key-length';
import { WRAPPING_KEY_BITS, copyToToken, generateWrappingKey, probeUnwrap, sessionAesKey, unwrapAesKey, unwrapMechanismType } from './rsa';
import { Handle, Pkcs11, Token } from './token';

const ckaId = (ref: MaterialRef): Buffer => Buffer.from(ref.id, 'utf8');

const REQUIRED = [pkcs11.CKM_AES_KEY_GEN, pkcs11.CKM_AES_GCM];
/** The check value of imported material: the AES-GCM tag of nothing under this IV and AAD. */
const CHECK_IV = Buffer.from('kms-check-v1');
const CHECK_AAD = Buffer.from('imported key material check value');

/** Material lives in the token as objects found by CKA_ID. */
export class TokenKeyStore extends KeyStore {
  private wrapping: Promise<WrappingAlgorithm[]> | null = null;

  constructor(private readonly token: Token) {
    super();
    // Refuse to start on a token that cannot do the work, rather than fail on first use.
    const missing = REQUIRED.filter((m) => !token.supports(m));
    if (missing.length) throw new HsmError(`the token lacks ${missing.map((m) => ckmName(m)).join(', ')}; CMKs need AES key generation and AES-GCM`);
  }

  async createAes(ref: MaterialRef, label: string, bytes: 16 | 32): Promise<CreatedMaterial> {
    const id = ckaId(ref);
    await this.token.exec((m, s) => generateAesKey(m, s, id, label, bytes));
    return {};
  }

  encrypt(ref: MaterialRef, iv: Buffer, aad: Buffer, plaintext: Buffer): Promise<Buffer> {
    return this.token.withObject(ckaId(ref), (m, s, key, async) => gcmEncrypt(m, s, key, iv, aad, plaintext, async));
  }

  async decrypt(ref: MaterialRef, iv: Buffer, aad: Buffer, sealed: Buffer): Promise<Buffer> {
    try {
      return await this.token.withObject(ckaId(ref), (m, s, key, async) => gcmDecrypt(m, s, key, iv, aad, sealed, async));
    } catch (e) {
      if (e instanceof HsmDataInvalidError) throw new InvalidCiphertextError('the ciphertext does not verify under this key and encryption context');
      throw e;
    }
  }

  async destroy(ref: MaterialRef): Promise<void> {
    const id = ckaId(ref);
    try {
      await this.token.withObject(id, (m, s, key) => m.C_DestroyObject(s, key));
    } catch (e) {
      if (!(e instanceof HsmObjectNotFoundError)) throw e;
    } finally {
      this.token.forget(id);
    }
  }

  exists(ref: MaterialRef): Promise<boolean> {
    return this.token.exists(ckaId(ref));
  }

  audit(): Promise<MaterialAudit[]> {
    return this.token.exec((m, s) => {
      // The secret part: a secret key's value, an RSA private key's private exponent.
      const objects = (ckoClass: number, name: MaterialAudit['class'], secret: number) => {
        m.C_FindObjectsInit(s, [{ type: pkcs11.CKA_CLASS, value: ckoClass }]);
        let handles: Handle[];
        try {
          handles = m.C_FindObjects(s, 1_000_000);
        } finally {
          m.C_FindObjectsFinal(s);
        }
        return handles.map((h) => {
          const [id, label] = m.C_GetAttributeValue(s, h, [{ type: pkcs11.CKA_ID }, { type: pkcs11.CKA_LABEL }]);
          return { id: (id.value as Buffer).toString('utf8'), label: (label.value as Buffer).toString('utf8'), class: name, ...readAttributes(m, s, h, secret) };
        });
      };
      return [...objects(pkcs11.CKO_SECRET_KEY, 'secret', pkcs11.CKA_VALUE), ...objects(pkcs11.CKO_PRIVATE_KEY, 'private', pkcs11.CKA_PRIVATE_EXPONENT)];
    });
  }

  async createMacKey(ref: MaterialRef, label: string): Promise<void> {
    const id = ckaId(ref);
    await this.token.exec((m, s) => generateHmacKey(m, s, id, label));
  }

  mac(ref: MaterialRef, data: Buffer): Promise<Buffer> {
    return this.token.withObject(ckaId(ref), (m, s, key) => hmacSign(m, s, key, data));
  }

  verifyMac(ref: MaterialRef, data: Buffer, mac: Buffer): Promise<boolean> {
    return this.token.withObject(ckaId(ref), (m, s, key) => hmacVerify(m, s, key, data, mac));
  }

  random(bytes: number): Promise<Buffer> {
    return this.token.exec((m, s) => generateRandom(m, s, bytes));
  }

  /** Measured once per process, on first use; a token that went away is measured again later. */
  wrappingAlgorithms(): Promise<WrappingAlgorithm[]> {
    if (!this.wrapping) {
      this.wrapping = this.probeWrapping();
      this.wrapping.catch(() => (this.wrapping = null));
    }
    return this.wrapping;
  }

  createWrappingKey(ref: MaterialRef, label: string): Promise<Buffer> {
    return this.token.exec((m, s) => generateWrappingKey(m, s, ckaId(ref), label, true).spki);
  }

  /**
   * All in one session: the material is unwrapped into a session object, measured and
   * checked there, and copied to a token object only once `keep` says so. One answer for
   * every way the material is wrong, after the same steps: input of the wrong size is
   * replaced by random bytes (still one RSA decryption), and input that does not decrypt by a
   * random session key (still one key made and measured). Telling bad padding from a wrong
   * length, by answer or by work, would make PKCS#1 v1.5 unwrapping a padding oracle
   * (Bleichenbacher).
   */
  async importAes(
    ref: MaterialRef,
    label: string,
    bytes: 16 | 32,
    wrappingKey: MaterialRef,
    algorithm: WrappingAlgorithm,
    wrapped: Buffer,
    keep: (checkValue: Buffer) => boolean,
  ): Promise<ImportedMaterial> {
    const undecryptable = new MaterialDecryptError(`the EncryptedKeyMaterial does not decrypt, with this ImportToken's wrapping key and ${algorithm}, to ${bytes * 8}-bit key material`);
    const size = WRAPPING_KEY_BITS / 8;
    const input = wrapped.length === size ? wrapped : crypto.randomBytes(size);
    const imported = await this.token.withObject(ckaId(wrappingKey), async (m, s, unwrapping, async): Promise<ImportedMaterial | null> => {
      let key: Handle | null = null;
      try {
        key = unwrapAesKey(m, s, unwrapping, algorithm, input, ckaId(ref), label);
      } catch (e) {
        if (!(e instanceof HsmDataInvalidError)) throw e;
      }
      const measured = key ?? sessionAesKey(m, s, bytes);
      try {
        const fits = keyHasLength(m, s, measured, bytes);
        // Answered outside, so that the session goes back to the pool as after any clean call.
        if (key === null || !fits || input !== wrapped) return null;
        const checkValue = await gcmEncrypt(m, s, key, CHECK_IV, CHECK_AAD, Buffer.alloc(0), async);
        const kept = keep(checkValue);
        if (kept) copyToToken(m, s, key);
        return { checkValue, kept };
      } finally {
        m.C_DestroyObject(s, measured);
      }
    });
    if (!imported) throw undecryptable;
    return imported;
  }

  private async probeWrapping(): Promise<WrappingAlgorithm[]> {
    const found: WrappingAlgorithm[] = [];
    for (const algorithm of WRAPPING_ALGORITHMS) {
      if (!this.token.supports(pkcs11.CKM_RSA_PKCS_KEY_PAIR_GEN) || !this.token.supports(unwrapMechanismType(algorithm))) continue;
      // One call per algorithm: the pool discards the session of a refused one.
      const works = await this.token.exec((m, s) => probeUnwrap(m, s, algorithm)).then(
        () => true,
        (e) => {
          if (e instanceof HsmError) return false;
          throw e;
        },
      );
      if (works) found.push(algorithm);
    }
    return found;
  }
}

function readAttributes(m: Pkcs11, s: Handle, key: Handle, secret: number): MaterialAttributes {
  const [sens, extr, always, never] = m.C_GetAttributeValue(s, key, [
    { type: pkcs11.CKA_SENSITIVE },
    { type: pkcs11.CKA_EXTRACTABLE },
    { type: pkcs11.CKA_ALWAYS_SENSITIVE },
    { type: pkcs11.CKA_NEVER_EXTRACTABLE },
  ]);
  let valueReadable = true;
  try {
    m.C_GetAttributeValue(s, key, [{ type: secret }]);
  } catch (e) {
    if (ckrOf(e) !== pkcs11.CKR_ATTRIBUTE_SENSITIVE) throw e;
    valueReadable = false;
  }
  const bool = (a: pkcs11.Attribute): boolean => Buffer.isBuffer(a.value) && a.value[0] === 1;
  return { sensitive: bool(sens), extractable: bool(extr), alwaysSensitive: bool(always), neverExtractable: bool(never), valueReadable };
}

const mechNames = new Map<number, string>();
for (const [k, v] of Object.entries(pkcs11)) if (k.startsWith('CKM_') && typeof v === 'number' && !mechNames.has(v)) mechNames.set(v, k);
const ckmName = (m: number): string => mechNames.get(m) ?? `CKM_0x${m.toString(16)}`;

import * as crypto from 'node:crypto';
import * as pkcs11 from 'pkcs11js';
import { Log } from '../common/logger';
import { AsymmetricDecryptError, InvalidCiphertextError, MaterialDecryptError, UnsupportedAlgorithmError } from '../common/domain-errors';
import { GCM_TAG_BYTES, createAesKeyFromValue, gcmDecrypt, gcmEncrypt, generateAesKey, generateRandom } from './aes';
import { cipherFinal, cipherInit, cipherUpdate } from './cipher-stream';
import { macFinal, macInit, macUpdate } from './mac-stream';
import { HsmDataInvalidError, HsmError, HsmObjectNotFoundError, ckrOf, translate } from './hsm-errors';
import {
  CreatedMaterial,
  DecryptionAlgorithm,
  ImportedMaterial,
  KeyStore,
  KeyStream,
  MaterialAttributes,
  MaterialAudit,
  MaterialRef,
  PairPurpose,
  PairSpec,
  SIGNING_ALGORITHMS,
  SecretKind,
  SigningAlgorithm,
  StreamSpec,
  TokenObject,
  WRAPPING_ALGORITHMS,
  WrappingAlgorithm,
} from './key-store';
import { ecProbePair, ecdsaSign, ecdsaVerify, generateEcPair, probeEcdsa } from './ecc';
import { createHmacKeyFromValue, generateHmacKey, hmacSign, hmacVerify } from './hmac';
import { generateSm2Pair, sm2Decrypt, sm2Sign } from './sm2';
import { Sm2Ciphertext } from './sm2-encoding';
import { Sm2Mechanisms } from './gm-mechanisms';
import { keyHasLength } from './key-length';
import { findHandles, readEach } from './object-search';
import { asTokenObject, copyToTokenIfAble } from './token-copy';
import {
  WRAPPING_KEY_BITS,
  generateRsaPair,
  generateWrappingKey,
  probeDecrypt,
  probeRsaSign,
  probeUnwrap,
  rsaProbePair,
  rsaDecrypt,
  rsaSign,
  rsaSignMechanismType,
  rsaVerify,
  sessionAesKey,
  unwrapAesKey,
  unwrapMechanismType,
} from './rsa';
import { Handle, Pkcs11, Token } from './token';
import { ProbePair, TemplateAdapter, asIs } from './key-pair';
import { KeyStorageMode, WrappedMaterial } from './wrapped-material';
import { isPendingKekId, ulong, wrappable } from './wrapping';

const ckaId = (ref: MaterialRef): Buffer => Buffer.from(ref.id, 'utf8');

const REQUIRED = [pkcs11.CKM_AES_KEY_GEN, pkcs11.CKM_AES_GCM];
/** The check value of imported material: the AES-GCM tag of nothing under this IV and AAD. */
const CHECK_IV = Buffer.from('kms-check-v1');
const CHECK_AAD = Buffer.from('imported key material check value');

/**
 * Material in a PKCS#11 token. Where a CMK's material lives is the storage mode's business
 * (`mode`): `token` makes it a token object found by CKA_ID; `wrapped` makes it a session
 * object that the region's KEK wraps, and keeps only the blob (MaterialRef.wrapped), which
 * `use` unwraps into a cached session object. Either mode uses both kinds of material, so
 * that keys made before a switch (or a migration) keep working. The service's own keys
 * (sealing keys, import wrapping keys) are token objects in both modes.
 */
export class TokenKeyStore extends KeyStore {
  private wrapping: Promise<WrappingAlgorithm[]> | null = null;
  private signing: Promise<SigningAlgorithm[]> | null = null;
  private decryption: Promise<DecryptionAlgorithm[]> | null = null;

  constructor(
    private readonly token: Token,
    private readonly mode: KeyStorageMode,
    private readonly wrapped: WrappedMaterial,
  ) {
    super();
    // Refuse to start on a token that cannot do the work, rather than fail on first use.
    const missing = REQUIRED.filter((m) => !token.supports(m));
    if (missing.length) throw new HsmError(`the token lacks ${missing.map((m) => ckmName(m)).join(', ')}; CMKs need AES key generation and AES-GCM`);
    // A declared SM2 mechanism the token does not list leaves its usage unoffered: say why.
    const sm2 = token.gm.sm2;
    const unlisted = sm2 ? Object.entries({ keyPairGen: sm2.keyPairGen, sign: sm2.sign, signWithSm3: sm2.signWithSm3, decrypt: sm2.decrypt }).filter(([, m]) => m !== undefined && !token.supports(m)) : [];
    if (unlisted.length) Log.warn('the HSM profile declares SM2 mechanisms the token does not list; their usages are not offered', { mechanisms: unlisted.map(([field, m]) => `gm.sm2.${field} ${ckmName(m!)}`).join(', ') });
  }

  async createAes(ref: MaterialRef, label: string, bytes: 16 | 24 | 32): Promise<CreatedMaterial> {
    const id = ckaId(ref);
    await this.token.exec((m, s) => {
      this.token.seeOtherWriters(m, s);
      generateAesKey(m, s, id, label, bytes);
    });
    return {};
  }

  createKeyPair(ref: MaterialRef, label: string, spec: PairSpec, purpose: PairPurpose): Promise<CreatedMaterial> {
    const id = ckaId(ref);
    return this.make(ref, async (m, s, adapt) => {
      const pair = await (spec === 'ec-p256' ? generateEcPair(m, s, id, label, true, adapt) : generateRsaPair(m, s, id, label, true, purpose === 'sign' ? pkcs11.CKA_SIGN : pkcs11.CKA_DECRYPT, adapt));
      return { key: pair.privateKey, publicKey: pair.spki };
    });
  }

  /** Drops the session objects kept for a key's wrapped material (a change to the key, from any process). */
  forgetKey(keyId: string): void {
    this.wrapped.forgetKey(keyId);
  }

  /**
   * New CMK material, made by `generate` in the mode's place: a token object, or a session
   * object that only a trusted key can wrap, wrapped by the region's KEK and destroyed.
   */
  private make(ref: MaterialRef, generate: (m: Pkcs11, s: Handle, adapt: TemplateAdapter) => Made | Promise<Made>): Promise<CreatedMaterial> {
    return this.token.exec(async (m, s) => {
      if (this.mode === 'token') {
        this.token.seeOtherWriters(m, s);
        return { publicKey: (await generate(m, s, asIs)).publicKey };
      }
      const { key, publicKey } = await generate(m, s, wrappable);
      try {
        return { wrapped: this.wrapped.seal(m, s, key, ref.region), publicKey };
      } finally {
        m.C_DestroyObject(s, key);
      }
    });
  }

  /** Runs `op` with the handle of `ref`'s material: a token object, or its wrapped material unwrapped. */
  private use<T>(ref: MaterialRef, op: (m: Pkcs11, session: Handle, key: Handle, async: boolean) => T | Promise<T>): Promise<T> {
    return ref.wrapped ? this.wrapped.use(ref, op) : this.token.withObject(ckaId(ref), op);
  }

  sign(ref: MaterialRef, algorithm: SigningAlgorithm, digest: Buffer): Promise<Buffer> {
    return this.use(ref, (m, s, key) => (algorithm === 'ecdsa-sha256' ? ecdsaSign(m, s, key, digest) : rsaSign(m, s, key, algorithm, digest)));
  }

  verify(spki: Buffer, algorithm: SigningAlgorithm, digest: Buffer, signature: Buffer): Promise<boolean> {
    return this.token.exec((m, s) => (algorithm === 'ecdsa-sha256' ? ecdsaVerify(m, s, spki, digest, signature) : rsaVerify(m, s, spki, algorithm, digest, signature)));
  }

  async decryptWithPair(ref: MaterialRef, algorithm: DecryptionAlgorithm, ciphertext: Buffer): Promise<Buffer> {
    try {
      return await this.use(ref, (m, s, key) => rsaDecrypt(m, s, key, algorithm, ciphertext));
    } catch (e) {
      if (e instanceof HsmDataInvalidError) throw new AsymmetricDecryptError(`the ciphertext does not decrypt under this key with ${algorithm}`);
      throw e;
    }
  }

  /** Measured once per process, on first use, as wrappingAlgorithms is. */
  signingAlgorithms(): Promise<SigningAlgorithm[]> {
    if (!this.signing) {
      const rsa = SIGNING_ALGORITHMS.filter((a): a is Exclude<SigningAlgorithm, 'ecdsa-sha256'> => a !== 'ecdsa-sha256');
      this.signing = Promise.all([
        this.probe(rsa, (a) => [pkcs11.CKM_RSA_PKCS_KEY_PAIR_GEN, rsaSignMechanismType(a)], (m, s) => rsaProbePair(m, s, pkcs11.CKA_SIGN), probeRsaSign),
        this.probe(['ecdsa-sha256'] as const, () => [pkcs11.CKM_EC_KEY_PAIR_GEN, pkcs11.CKM_ECDSA], ecProbePair, probeEcdsa),
      ]).then(([withRsa, withEc]) => [...withRsa, ...withEc]);
      this.signing.catch(() => (this.signing = null));
    }
    return this.signing;
  }

  decryptionAlgorithms(): Promise<DecryptionAlgorithm[]> {
    if (!this.decryption) {
      this.decryption = this.probe(WRAPPING_ALGORITHMS, (a) => [pkcs11.CKM_RSA_PKCS_KEY_PAIR_GEN, unwrapMechanismType(a)], (m, s) => rsaProbePair(m, s, pkcs11.CKA_DECRYPT), probeDecrypt);
      this.decryption.catch(() => (this.decryption = null));
    }
    return this.decryption;
  }

  sm2Purposes(): PairPurpose[] {
    const sm2 = this.token.gm.sm2;
    if (!sm2 || !this.token.supports(sm2.keyPairGen)) return [];
    const listed = (m: number | undefined) => m !== undefined && this.token.supports(m);
    const purposes: PairPurpose[] = [];
    if (listed(sm2.sign) || listed(sm2.signWithSm3)) purposes.push('sign');
    if (listed(sm2.decrypt)) purposes.push('decrypt');
    return purposes;
  }

  createSm2Pair(ref: MaterialRef, label: string, purpose: PairPurpose): Promise<CreatedMaterial> {
    const sm2 = this.sm2For(purpose);
    return this.make(ref, async (m, s, adapt) => {
      const pair = await generateSm2Pair(m, s, sm2, ckaId(ref), label, purpose, adapt);
      return { key: pair.privateKey, publicKey: pair.spki };
    });
  }

  sm2Sign(ref: MaterialRef, e: Buffer, message?: Buffer): Promise<Buffer> {
    const sm2 = this.sm2For('sign');
    // A declared mechanism the token does not list is left out, as sm2Purposes leaves it out.
    const sign = sm2.sign !== undefined && this.token.supports(sm2.sign) ? sm2.sign : undefined;
    if (sign === undefined && message === undefined) throw new UnsupportedAlgorithmError("this service's HSM signs SM2 only whole messages (SM3 inside the token), not digests");
    return this.use(ref, (m, s, key) => sm2Sign(m, s, key, { ...sm2, sign }, e, message));
  }

  async sm2Decrypt(ref: MaterialRef, ciphertext: Sm2Ciphertext): Promise<Buffer> {
    const sm2 = this.sm2For('decrypt');
    try {
      return await this.use(ref, (m, s, key) => sm2Decrypt(m, s, key, sm2, ciphertext));
    } catch (e) {
      if (e instanceof HsmDataInvalidError) throw new AsymmetricDecryptError('the ciphertext does not decrypt under this SM2 key');
      throw e;
    }
  }

  /** The profile's SM2 mechanisms, which the core asks for only where sm2Purposes offered `purpose`. */
  private sm2For(purpose: PairPurpose): Sm2Mechanisms {
    const sm2 = this.token.gm.sm2;
    if (!sm2 || !this.sm2Purposes().includes(purpose)) throw new UnsupportedAlgorithmError(`this service's HSM has no SM2 ${purpose === 'sign' ? 'signing' : 'decryption'}`);
    return sm2;
  }

  encrypt(ref: MaterialRef, iv: Buffer, aad: Buffer, plaintext: Buffer): Promise<Buffer> {
    return this.use(ref, (m, s, key, async) => gcmEncrypt(m, s, key, iv, aad, plaintext, async));
  }

  async decrypt(ref: MaterialRef, iv: Buffer, aad: Buffer, sealed: Buffer): Promise<Buffer> {
    try {
      return await this.use(ref, (m, s, key, async) => gcmDecrypt(m, s, key, iv, aad, sealed, async));
    } catch (e) {
      if (e instanceof HsmDataInvalidError) throw new InvalidCiphertextError('the ciphertext does not verify under this key and encryption context');
      throw e;
    }
  }

  async destroy(ref: MaterialRef): Promise<void> {
    this.wrapped.evict(ref.id);
    // Wrapped material is gone with its row; what the other processes keep, the change feed
    // drops. A token object of the same id goes too, wrapped or not: a move between the
    // storage modes cut short leaves one behind a wrapped row.
    const id = ckaId(ref);
    try {
      await this.token.withObject(id, (m, s, key) => {
        this.token.seeOtherWriters(m, s);
        m.C_DestroyObject(s, key);
      });
    } catch (e) {
      if (!(e instanceof HsmObjectNotFoundError)) throw e;
    } finally {
      this.token.forget(id);
    }
  }

  exists(ref: MaterialRef): Promise<boolean> {
    // Wrapped material exists while its row does: only whether the token answers is asked.
    if (ref.wrapped) return this.token.exec(() => true);
    return this.token.exists(ckaId(ref));
  }

  /** Key-encryption keys show their region, generation, CKA_TRUSTED, and whether the token enforces CKA_WRAP_WITH_TRUSTED and their unwrap template; a public KEK left by a crash is critical. */
  async audit(): Promise<MaterialAudit[]> {
    const keks = await this.wrapped.list();
    const enforced = keks.length > 0 ? await this.wrapped.wrapWithTrustedEnforced() : false;
    const templates = keks.length > 0 ? await this.wrapped.unwrapTemplates() : new Map<string, boolean>();
    return this.token.exec((m, s) => {
      // The secret part: a secret key's value, an RSA private key's private exponent, an EC private key's value.
      // CKA_TOKEN in the search also leaves out an object another process is still making: SoftHSM
      // writes its defaults (CKA_TOKEN false, an empty CKA_ID) before the template, and pkcs11js
      // crashes reading an attribute that grows from empty between its two C_GetAttributeValue calls.
      const objects = (ckoClass: number, name: MaterialAudit['class']) =>
        readEach(findHandles(m, s, [{ type: pkcs11.CKA_CLASS, value: ckoClass }, { type: pkcs11.CKA_TOKEN, value: true }]), (h) => {
          const [id, label] = m.C_GetAttributeValue(s, h, [{ type: pkcs11.CKA_ID }, { type: pkcs11.CKA_LABEL }]);
          const [type] = m.C_GetAttributeValue(s, h, [{ type: pkcs11.CKA_KEY_TYPE }]);
          const secret = name === 'private' && ulong(type.value as Buffer) === pkcs11.CKK_RSA ? pkcs11.CKA_PRIVATE_EXPONENT : pkcs11.CKA_VALUE;
          const entry: MaterialAudit = { id: (id.value as Buffer).toString('utf8'), label: (label.value as Buffer).toString('utf8'), class: name, ...readAttributes(m, s, h, secret), usages: readUsages(m, s, h), wrapWithTrusted: flag(m, s, h, pkcs11.CKA_WRAP_WITH_TRUSTED) };
          const kek = keks.find((k) => k.id === entry.id);
          if (kek) entry.kek = { region: kek.region, generation: kek.generation, active: kek.active, trusted: flag(m, s, h, pkcs11.CKA_TRUSTED), private: flag(m, s, h, pkcs11.CKA_PRIVATE), modifiable: flag(m, s, h, pkcs11.CKA_MODIFIABLE), wrapWithTrustedEnforced: enforced, unwrapTemplateEnforced: templates.get(kek.id) ?? false };
          if (isPendingKekId(entry.id) && !flag(m, s, h, pkcs11.CKA_PRIVATE)) entry.critical = 'a public key-encryption key a crash left before its private copy: a session without a login can unwrap CMK material with it; every start in wrapped storage (kms serve, any kms command with KMS_KEY_STORAGE=wrapped) destroys it';
          return entry;
        });
      return [...objects(pkcs11.CKO_SECRET_KEY, 'secret'), ...objects(pkcs11.CKO_PRIVATE_KEY, 'private')];
    });
  }

  objects(): Promise<TokenObject[]> {
    return this.token.exec((m, s) => {
      this.token.seeOtherWriters(m, s);
      return [pkcs11.CKO_SECRET_KEY, pkcs11.CKO_PRIVATE_KEY].flatMap((ckoClass) =>
        readEach(
          findHandles(m, s, [
            { type: pkcs11.CKA_CLASS, value: ckoClass },
            { type: pkcs11.CKA_TOKEN, value: true },
          ]),
          (h) => {
            const [id, label] = m.C_GetAttributeValue(s, h, [{ type: pkcs11.CKA_ID }, { type: pkcs11.CKA_LABEL }]);
            return { id: (id.value as Buffer).toString('utf8'), label: (label.value as Buffer).toString('utf8') };
          },
        ),
      );
    });
  }

  createSecret(ref: MaterialRef, label: string, kind: SecretKind): Promise<CreatedMaterial> {
    const id = ckaId(ref);
    return this.make(ref, (m, s, adapt) => ({ key: kind.family === 'hmac-sha256' ? generateHmacKey(m, s, id, label, adapt) : generateAesKey(m, s, id, label, kind.bytes, adapt) }));
  }

  async importSecret(ref: MaterialRef, label: string, kind: SecretKind, material: Buffer): Promise<CreatedMaterial> {
    try {
      if (material.length !== kind.bytes) throw new HsmDataInvalidError(`the material is ${material.length} bytes, not ${kind.bytes}`);
      const id = ckaId(ref);
      return await this.make(ref, (m, s, adapt) => ({ key: kind.family === 'hmac-sha256' ? createHmacKeyFromValue(m, s, id, label, material, adapt) : createAesKeyFromValue(m, s, id, label, material, adapt) }));
    } finally {
      material.fill(0);
    }
  }

  async openStream(ref: MaterialRef, spec: StreamSpec): Promise<KeyStream> {
    let pinned: Handle | undefined;
    const unpin = () => {
      if (pinned) this.wrapped.unpin(ref, pinned);
      pinned = undefined;
    };
    const target = ref.wrapped ? (m: Pkcs11, s: Handle) => (pinned = this.wrapped.pin(m, s, ref)) : ckaId(ref);
    const held = await this.token.hold(target, (m, s, key) => (spec.op === 'mac' ? macInit(m, s, key) : cipherInit(m, s, key, spec))).catch((e: unknown) => {
      unpin();
      throw e;
    });
    const encrypt = spec.op === 'encrypt';
    let pending = 0;
    let open = true;
    const end = () => {
      if (open) this.token.release(held);
      open = false;
      unpin();
    };
    // Any failed step leaves the token's operation ended or unknown: the session goes.
    const step = <T>(op: (m: Pkcs11, s: Handle) => T): T => {
      if (!open) throw new HsmError('the operation has ended');
      try {
        return this.token.step(held, op);
      } catch (e) {
        end();
        throw e;
      }
    };
    return {
      update: (data) =>
        step((m, s) => {
          if (spec.op === 'mac') return macUpdate(m, s, data);
          const out = cipherUpdate(m, s, encrypt, data, pending);
          pending += data.length - out.length;
          return out;
        }),
      finish: (data, tag) => {
        const out = step((m, s) => {
          if (spec.op === 'mac') {
            macUpdate(m, s, data);
            return macFinal(m, s);
          }
          if (tag && tag.length !== GCM_TAG_BYTES) throw new HsmDataInvalidError(`the tag must be ${GCM_TAG_BYTES} bytes`);
          const input = tag ? Buffer.concat([data, tag]) : data;
          const head = cipherUpdate(m, s, encrypt, input, pending);
          pending += input.length - head.length;
          return Buffer.concat([head, cipherFinal(m, s, encrypt, pending)]);
        });
        end();
        return out;
      },
      abort: end,
    };
  }

  async createMacKey(ref: MaterialRef, label: string): Promise<void> {
    const id = ckaId(ref);
    await this.token.exec((m, s) => {
      this.token.seeOtherWriters(m, s);
      generateHmacKey(m, s, id, label);
    });
  }

  mac(ref: MaterialRef, data: Buffer): Promise<Buffer> {
    return this.use(ref, (m, s, key) => hmacSign(m, s, key, data));
  }

  verifyMac(ref: MaterialRef, data: Buffer, mac: Buffer): Promise<boolean> {
    return this.use(ref, (m, s, key) => hmacVerify(m, s, key, data, mac));
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
    return this.token.exec(async (m, s) => {
      this.token.seeOtherWriters(m, s);
      return (await generateWrappingKey(m, s, ckaId(ref), label, true)).spki;
    });
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
        key = unwrapAesKey(m, s, unwrapping, algorithm, input, ckaId(ref), label, this.mode === 'wrapped' ? wrappable : asIs);
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
        if (kept && this.mode === 'wrapped') return { checkValue, kept, wrapped: this.wrapped.seal(m, s, key, ref.region) };
        if (kept) {
          this.token.seeOtherWriters(m, s);
          // A token that will not copy gets the material unwrapped again, in place (input is the checked material).
          if (copyToTokenIfAble(m, s, key) === null) unwrapAesKey(m, s, unwrapping, algorithm, input, ckaId(ref), label, asTokenObject);
        }
        return { checkValue, kept };
      } finally {
        m.C_DestroyObject(s, measured);
      }
    });
    if (!imported) throw undecryptable;
    return imported;
  }

  private probeWrapping(): Promise<WrappingAlgorithm[]> {
    return this.probe(WRAPPING_ALGORITHMS, (a) => [pkcs11.CKM_RSA_PKCS_KEY_PAIR_GEN, unwrapMechanismType(a)], (m, s) => rsaProbePair(m, s, pkcs11.CKA_UNWRAP), probeUnwrap);
  }

  /**
   * The algorithms whose mechanisms the token lists and whose probe succeeds on it (mechanism
   * lists overclaim). Those listed are tried in turn under one throwaway pair (RSA-2048 pairs
   * take the token a while); after a refusal the session may hold an unfinished operation, so
   * the call fails (and the pool drops the session) and the rest go on with a fresh pair.
   */
  private async probe<A extends string>(
    algorithms: readonly A[],
    needs: (a: A) => number[],
    pair: (m: Pkcs11, s: Handle) => Promise<ProbePair>,
    run: (m: Pkcs11, s: Handle, pair: ProbePair, a: A) => void,
  ): Promise<A[]> {
    const found: A[] = [];
    let todo = algorithms.filter((a) => needs(a).every((mech) => this.token.supports(mech)));
    while (todo.length > 0) {
      const tried = todo;
      todo = await this.token
        .exec(async (m, s) => {
          const p = await pair(m, s);
          try {
            for (const [i, a] of tried.entries()) {
              try {
                run(m, s, p, a);
              } catch (e) {
                if (!(translate(e) instanceof HsmError)) throw e;
                throw new ProbeRefused(tried.slice(i + 1));
              }
              found.push(a);
            }
            return [];
          } finally {
            try {
              m.C_DestroyObject(s, p.privateKey);
            } catch {
              // A session object: it goes with the session, which the pool drops after a refusal.
            }
          }
        })
        .catch((e: unknown) => {
          if (e instanceof ProbeRefused) return e.rest as A[];
          // The pair itself could not be made: none of these work here.
          if (e instanceof HsmError) return [];
          throw e;
        });
    }
    return found;
  }
}

/** A probe's refusal of one algorithm, carrying those still to try (with a fresh pair, in a fresh session). */
class ProbeRefused extends Error {
  constructor(readonly rest: string[]) {
    super('the token refused a probed algorithm');
  }
}

/** What `make` generates: the key's handle, and a pair's public key. */
type Made = { key: Handle; publicKey?: Buffer };

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


/** A boolean attribute; false where the object has no such attribute. */
function flag(m: Pkcs11, s: Handle, key: Handle, type: number): boolean {
  try {
    const [a] = m.C_GetAttributeValue(s, key, [{ type }]);
    return Buffer.isBuffer(a.value) && a.value[0] === 1;
  } catch (e) {
    if (ckrOf(e) !== pkcs11.CKR_ATTRIBUTE_TYPE_INVALID) throw e;
    return false;
  }
}

const USAGE_FLAGS: ReadonlyArray<[string, number]> = [
  ['ENCRYPT', pkcs11.CKA_ENCRYPT],
  ['DECRYPT', pkcs11.CKA_DECRYPT],
  ['WRAP', pkcs11.CKA_WRAP],
  ['UNWRAP', pkcs11.CKA_UNWRAP],
  ['SIGN', pkcs11.CKA_SIGN],
  ['VERIFY', pkcs11.CKA_VERIFY],
  ['DERIVE', pkcs11.CKA_DERIVE],
];

/** The usage flags that are true. A private key has no CKA_ENCRYPT, CKA_WRAP or CKA_VERIFY: those are skipped. */
function readUsages(m: Pkcs11, s: Handle, key: Handle): string[] {
  return USAGE_FLAGS.filter(([, type]) => flag(m, s, key, type)).map(([name]) => name);
}

const mechNames = new Map<number, string>();
for (const [k, v] of Object.entries(pkcs11)) if (k.startsWith('CKM_') && typeof v === 'number' && !mechNames.has(v)) mechNames.set(v, k);
const ckmName = (m: number): string => mechNames.get(m) ?? `CKM_0x${m.toString(16)}`;

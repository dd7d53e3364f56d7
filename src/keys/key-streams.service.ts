import { Inject, Injectable } from '@nestjs/common';
import { Principal } from '../accounts/principal';
import { InvalidCiphertextError, InvalidParameterError, KeyStateError, UnsupportedKeyUsageError } from '../common/domain-errors';
import { HsmDataInvalidError, HsmMechanismError } from '../hsm/hsm-errors';
import { KeyStore, KeyStream, StreamSpec } from '../hsm/key-store';
import { keyKind, secretKindOf } from './key-params';
import { assertAllowed } from './key-states';
import { KeysService } from './keys.service';

/**
 * Multi-part operations with a key, found by alias: encryption and decryption in parts, and
 * MACs over data given in parts. The key's state, usage and spec are checked at the start;
 * the caller (a face) keeps the stream and serializes its steps.
 */
@Injectable()
export class KeyStreamsService {
  constructor(private readonly keys: KeysService, @Inject(KeyStore) private readonly store: KeyStore) {}

  /** `bytes`: the key size the caller expects (refused when the key is of another size). */
  async open(p: Principal, alias: string, spec: StreamSpec, bytes?: number): Promise<KeyStream> {
    const rec = await this.keys.getByAlias(p, alias);
    const key = rec.key;
    assertAllowed(key.keyState, spec.op === 'decrypt' ? 'Decrypt' : 'Encrypt');
    // A key pair's purpose is neither: it is refused like a secret key of the other kind.
    if (keyKind(key.keyUsage).purpose !== (spec.op === 'mac' ? 'mac' : 'encrypt-decrypt')) throw new UnsupportedKeyUsageError(key.keyUsage, (u) => `the key under alias ${alias} is a ${u} key, which cannot ${spec.op}`);
    const kind = secretKindOf(key.keySpec);
    if (bytes !== undefined && bytes !== kind.bytes) throw new InvalidParameterError('keySpec', `the key under alias ${alias} is ${kind.bytes * 8} bits, not ${bytes * 8}`, 'value');
    const material = rec.versions.get(key.currentVersion);
    if (!material) throw new KeyStateError(key.keyState, spec.op);
    p.touched?.note(key.keyId, key.currentVersion);
    const stream = await this.store.openStream(material, spec).catch((e: unknown) => {
      throw core(e, spec);
    });
    return {
      update: (data) => guarded(() => stream.update(data), spec),
      finish: (data, tag) => guarded(() => stream.finish(data, tag), spec),
      abort: () => stream.abort(),
    };
  }
}

function guarded<T>(step: () => T, spec: StreamSpec): T {
  try {
    return step();
  } catch (e) {
    throw core(e, spec);
  }
}

/** The token's refusals in the core's words: a length that does not fit, data that does not verify, parameters the mechanism refuses. */
function core(e: unknown, spec: StreamSpec): unknown {
  if (e instanceof HsmDataInvalidError) {
    if (e.badLength) return new InvalidParameterError('inData', `the data's length does not fit ${spec.cipher} without padding (a multiple of 16 bytes)`, 'value');
    if (spec.op === 'decrypt' || e.ckr === undefined) return new InvalidCiphertextError(`the data does not verify under this key and these parameters (${spec.cipher})`);
  }
  if (e instanceof HsmMechanismError) return new InvalidParameterError('streamParameters', `the token refuses these ${spec.cipher} parameters: ${e.message}`, 'value');
  return e;
}

import { KeyEntity } from '../../keys/key.entity';
import { WrappingAlgorithm } from '../../hsm/key-store';
import { KeyOrigin, KeyUsage, isKeyUsage } from '../../keys/key-params';

/**
 * This API's own names, numbers and forms for keys, mapped to the core's: the core enforces
 * only what holds for every face, and these run before it is called.
 */

/** key_alias: 1-255 of letters, digits, `:`, `/` and `_`; the suffix `/default` is the service's default keys'. (The store keeps at most 60 characters.) */
export const ALIAS = /^[a-zA-Z0-9:/_]{1,255}$/;
export const isReservedAlias = (alias: string): boolean => alias.endsWith('/default');

/**
 * key_state: "1" pending activation (no key here ever is), "2" enabled, "3" disabled, "4"
 * pending deletion, "5" pending import. A key archived through another face can only decrypt,
 * which is closest to disabled here.
 */
const STATE_NUMBERS: Record<string, string> = { Enabled: '2', Disabled: '3', Archived: '3', PendingDelete: '4', PendingImport: '5' };
export const stateNumber = (state: string): string => STATE_NUMBERS[state] ?? '1';
/** The core states a key_state filter selects. */
export const statesOfNumber = (n: string): string[] => Object.keys(STATE_NUMBERS).filter((s) => STATE_NUMBERS[s] === n);

/** origin: kms (made by the service) or external (imported), the core's generated and imported. */
const ORIGINS: Readonly<Record<string, KeyOrigin>> = { kms: 'generated', external: 'imported' };
export const ORIGIN_NAMES = Object.keys(ORIGINS);
export const originOf = (name: string | undefined): KeyOrigin => ORIGINS[name ?? 'kms'];
export const originName = (origin: string): string => ORIGIN_NAMES.find((n) => ORIGINS[n] === origin) ?? origin;

/**
 * The core's key usages as Huawei's later API versions name a key's kind (key_spec and
 * key_usage), for messages: v1.0 shows neither, and creates only AES-256 keys, but keys made
 * through another face can be used here.
 */
const USAGE_NAMES: Readonly<Record<KeyUsage, string>> = {
  'aes:encrypt-decrypt': 'AES ENCRYPT_DECRYPT',
  'hmac:mac': 'HMAC GENERATE_VERIFY_MAC',
  'rsa-2048:decrypt': 'RSA_2048 ENCRYPT_DECRYPT',
  'rsa-2048:sign': 'RSA_2048 SIGN_VERIFY',
  'ec-p256:sign': 'EC_P256 SIGN_VERIFY',
  'sm2:decrypt': 'SM2 ENCRYPT_DECRYPT',
  'sm2:sign': 'SM2 SIGN_VERIFY',
};
export const usageName = (usage: string): string => (isKeyUsage(usage) ? USAGE_NAMES[usage] : usage);

/** Times are milliseconds since the epoch, as strings; "" when there is none. */
const ms = (seconds: number): string => (seconds ? String(seconds * 1000) : '');

/** key_info as describe-key and list-keys give it. */
export function keyInfo(k: KeyEntity): Record<string, string> {
  return {
    key_id: k.keyId,
    domain_id: k.uin,
    key_alias: k.alias,
    realm: k.region,
    key_description: k.description,
    creation_date: ms(k.createdAt),
    scheduled_deletion_date: ms(k.deletionDate),
    key_state: stateNumber(k.keyState),
    default_key_flag: k.isDefault ? '1' : '0',
    // "1": AES-256, the one kind of CMK made here.
    key_type: '1',
    expiration_time: ms(k.validTo),
    origin: originName(k.origin),
    sys_enterprise_project_id: '0',
  };
}

/** wrapping_algorithm names, as get-parameters-for-import takes them. */
const WRAPPING_NAMES: Readonly<Record<string, WrappingAlgorithm>> = {
  RSAES_PKCS1_V1_5: 'rsa-pkcs1-v1_5',
  RSAES_OAEP_SHA_1: 'rsa-oaep-sha1',
  RSAES_OAEP_SHA_256: 'rsa-oaep-sha256',
};
export const WRAPPING_ALGORITHM_NAMES = Object.keys(WRAPPING_NAMES);
export const wrappingAlgorithmOf = (name: string): WrappingAlgorithm => WRAPPING_NAMES[name];
export const wrappingAlgorithmName = (algorithm: WrappingAlgorithm): string => WRAPPING_ALGORITHM_NAMES.find((n) => WRAPPING_NAMES[n] === algorithm) ?? algorithm;
/** The wrapping key's spec: this API names none, and gets the core's one (RSA-2048). */
export const WRAPPING_KEY_SPEC = 'rsa-2048';

import fc from 'fast-check';
import * as fs from 'node:fs';
import * as path from 'node:path';

/**
 * Hostile input for the fuzz test (test/hostile-input.e2e.test.ts): request parameters
 * generated with fast-check from each face's own parameter schema (the Tencent action table's
 * parameter lists and the readers each action uses, the REST face's OpenAPI document, the HUKS
 * operations and property tags), mixing valid values, boundaries, wrong types, huge and empty
 * values and unicode; and the codes each face's documents list, which every answer must carry.
 */

const ROOT = path.resolve(__dirname, '..', '..');

/** Values the service knows (real key ids, ciphertexts, ...), so generated requests also get past the first checks. */
export interface Pools {
  keyIds: string[];
  blobs: string[];
  aliases: string[];
  importTokens: string[];
  publicKeys: string[];
}

/** Lower-case hex of up to `max` characters. */
export const hex = (max: number): fc.Arbitrary<string> => fc.string({ unit: fc.constantFrom(...'0123456789abcdef'), maxLength: max });

/** Anything at all, for the wrong-type cases. */
const junk: fc.Arbitrary<unknown> = fc.oneof(
  fc.constant(null),
  fc.boolean(),
  fc.integer(),
  fc.double(),
  fc.constantFrom(-1, 0, 2 ** 31, 2 ** 53, -(2 ** 63), 1e308, Number.MIN_VALUE),
  fc.array(fc.string(), { maxLength: 4 }),
  fc.dictionary(fc.string({ maxLength: 8 }), fc.string({ maxLength: 8 }), { maxKeys: 3 }),
  fc.constant({}),
  fc.constant([]),
);

/** Strings of every kind: empty, ASCII, any code point (lone surrogates included), huge, look-alikes. */
export const hostileString: fc.Arbitrary<string> = fc.oneof(
  fc.constant(''),
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.string({ unit: 'grapheme', maxLength: 20 }),
  fc.constantFrom(' ', '\u0000', '\u202e', '\ud800', '%00', '../../etc/passwd', "' OR 1=1 --", '{"a":1}', '[]', 'null', 'NaN', '-1', '0x10', '1e9', '９', 'AAAA', '===='),
  fc.nat({ max: 70_000 }).map((n) => 'A'.repeat(n)),
  fc.base64String({ maxLength: 200 }),
  fc.uuid(),
  hex(80),
);

const hostileUint: fc.Arbitrary<unknown> = fc.oneof(
  fc.nat(),
  fc.constantFrom(0, 1, 2, 3, 6, 7, 8, 30, 31, 32, 64, 100, 200, 365, 366, 1024, 1025, 1096, 1097, 4096, 8192, 8193, 2 ** 31, 2 ** 32, 2 ** 53),
  fc.integer({ min: -1000, max: -1 }),
  fc.double(),
  fc.nat().map(String),
  fc.constantFrom('1', '007', '1.5', '-3', ' 8', ''),
);

/** A value for a parameter named `name` of kind `kind`: usually of its kind (often a real one), sometimes anything. */
export function paramValue(name: string, kind: ParamKind, pools: Pools): fc.Arbitrary<unknown> {
  const real = realStrings(name, pools);
  const ofKind: fc.Arbitrary<unknown> =
    kind === 'uint'
      ? hostileUint
      : kind === 'strArray'
        ? fc.oneof(fc.array(real ? fc.oneof(real, hostileString) : hostileString, { maxLength: 5 }), fc.array(fc.uuid(), { minLength: 95, maxLength: 110 }), fc.array(junk, { maxLength: 3 }))
        : kind === 'objArray'
          ? fc.oneof(
              fc.array(fc.record({ TagKey: fc.oneof(hostileString, junk), TagValue: fc.oneof(hostileString, fc.array(hostileString, { maxLength: 3 }), junk) }, { requiredKeys: [] }), { maxLength: 4 }),
              fc.array(junk, { maxLength: 3 }),
            )
          : real
            ? fc.oneof({ weight: 3, arbitrary: real }, { weight: 2, arbitrary: hostileString })
            : hostileString;
  return fc.oneof({ weight: 5, arbitrary: ofKind }, { weight: 1, arbitrary: junk });
}

/** Real or well-formed values for the parameters whose names say what they hold. */
function realStrings(name: string, pools: Pools): fc.Arbitrary<string> | undefined {
  const n = name.toLowerCase();
  const pick = (xs: string[]) => (xs.length ? fc.constantFrom(...xs) : undefined);
  if (/keyid|key_id/.test(n)) return pick(pools.keyIds);
  if (/ciphertext|cipher_text/.test(n)) return pick(pools.blobs);
  if (/alias/.test(n)) return fc.oneof(pick(pools.aliases) ?? fc.constant('a'), fc.stringMatching(/^[a-zA-Z0-9][a-zA-Z0-9_-]{0,70}$/));
  if (/importtoken|import_token/.test(n)) return pick(pools.importTokens);
  if (/publickey/.test(n)) return pick(pools.publicKeys);
  if (/plaintext|plain_text|material|message|signature/.test(n)) return fc.oneof(fc.base64String({ maxLength: 8000 }), hex(200));
  if (/context/.test(n)) return fc.oneof(fc.json({ maxDepth: 2 }), fc.dictionary(fc.string({ maxLength: 10 }), fc.string({ maxLength: 10 })).map((o) => JSON.stringify(o)));
  if (/algorithm|spec|usage/.test(n)) return fc.constantFrom('RSAES_PKCS1_V1_5', 'RSAES_OAEP_SHA_1', 'RSAES_OAEP_SHA_256', 'RSA_2048', 'SM2', 'SM2DSA', 'ECC', 'RSA_PSS_SHA_256', 'RSA_PKCS1_SHA_256', 'ECDSA_SHA_256', 'ENCRYPT_DECRYPT', 'ASYMMETRIC_DECRYPT_RSA_2048', 'ASYMMETRIC_SIGN_VERIFY_ECC', 'ASYMMETRIC_SIGN_VERIFY_SM2', 'AES_256', 'AES_128', 'HMAC_256', 'SM4');
  return undefined;
}

export type ParamKind = 'string' | 'uint' | 'strArray' | 'objArray';

export interface ActionSchema {
  name: string;
  params: Array<{ name: string; kind: ParamKind }>;
}

/**
 * The Tencent face's actions as its own table declares them (`name` and `params` of each
 * ActionDef under src/api/tencent/actions/), each parameter typed by the reader the actions
 * use for it (params.str, uint, strArray, objArray).
 */
export function tencentSchemas(): ActionSchema[] {
  const dir = path.join(ROOT, 'src', 'api', 'tencent', 'actions');
  const text = fs.readdirSync(dir).filter((f) => f.endsWith('.actions.ts')).map((f) => fs.readFileSync(path.join(dir, f), 'utf8')).join('\n');
  const kinds = new Map<string, ParamKind>();
  for (const m of text.matchAll(/params\.(str|uint|requiredUint|strArray|objArray)\('([A-Za-z]+)'/g)) kinds.set(m[2], m[1] === 'requiredUint' ? 'uint' : (m[1] as ParamKind));
  const actions: ActionSchema[] = [];
  // An action's row: its name, then its parameter list, with any flags (`stateless: true`) between.
  for (const m of text.matchAll(/name: '([A-Za-z]+)',(?:\s*[A-Za-z]+: (?:true|false),)*\s*params: \[([^\]]*)\]/g)) {
    const params = [...m[2].matchAll(/'([A-Za-z]+)'/g)].map((p) => ({ name: p[1], kind: kinds.get(p[1]) ?? 'string' }));
    actions.push({ name: m[1], params });
  }
  return actions;
}

/** A request body for `action`: a random subset of its parameters (required ones usually present), now and then an unknown one. */
export function tencentBody(action: ActionSchema, pools: Pools): fc.Arbitrary<Record<string, unknown>> {
  const fields = Object.fromEntries(action.params.map((p) => [p.name, paramValue(p.name, p.kind, pools)]));
  return fc.tuple(fc.record(fields, { requiredKeys: [] }), fc.option(fc.tuple(fc.string({ minLength: 1, maxLength: 12 }), junk), { freq: 10 })).map(([body, extra]) => (extra ? { ...body, [extra[0]]: extra[1] } : body));
}

interface JsonSchema {
  type?: string;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  additionalProperties?: boolean | JsonSchema;
  items?: JsonSchema;
  enum?: string[];
  minLength?: number;
  maxLength?: number;
  minItems?: number;
  maxItems?: number;
  pattern?: string;
  'x-range'?: { minimum: number; maximum: number; multipleOf?: number };
}

/** A value for a JSON schema of the REST face's OpenAPI document: valid at times, at its bounds, or hostile. */
export function schemaValue(name: string, s: JsonSchema, pools: Pools, depth = 0): fc.Arbitrary<unknown> {
  const hostile = fc.oneof(junk, hostileString);
  let valid: fc.Arbitrary<unknown>;
  if (s.type === 'object' && s.properties && depth < 3) valid = schemaObject(s, pools, depth + 1);
  else if (s.type === 'object') valid = fc.dictionary(hostileString, fc.oneof(hostileString, junk), { maxKeys: 4 });
  else if (s.type === 'array') valid = fc.array(s.items ? schemaValue(name, s.items, pools, depth + 1) : junk, { maxLength: Math.min((s.maxItems ?? 5) + 2, 30) });
  else if (s['x-range']) {
    const { minimum, maximum, multipleOf = 1 } = s['x-range'];
    const inRange = fc.integer({ min: Math.ceil(minimum / multipleOf), max: Math.floor(maximum / multipleOf) }).map((k) => k * multipleOf);
    valid = fc.oneof(inRange.map(String), inRange, fc.constantFrom(minimum - 1, maximum + 1, minimum, maximum, minimum + 1).map(String), hostileUint);
  } else if (s.enum) valid = fc.oneof(fc.constantFrom(...s.enum), fc.constantFrom(...s.enum).map((e) => e.toLowerCase()));
  else {
    const real = realStrings(name, pools);
    const sized = fc.string({ minLength: s.minLength ?? 0, maxLength: s.maxLength ?? 64 });
    valid = fc.oneof(...[real, s.pattern ? fc.stringMatching(new RegExp(s.pattern), { size: 'xsmall' }) : undefined, sized].filter((a): a is fc.Arbitrary<string> => a !== undefined));
  }
  return fc.oneof({ weight: 4, arbitrary: valid }, { weight: 1, arbitrary: hostile });
}

function schemaObject(s: JsonSchema, pools: Pools, depth: number): fc.Arbitrary<Record<string, unknown>> {
  const props = s.properties ?? {};
  const fields = Object.fromEntries(Object.entries(props).map(([n, p]) => [n, schemaValue(n, p, pools, depth)]));
  const required = s.required ?? [];
  return fc.tuple(fc.record(fields, { requiredKeys: [] }), fc.boolean(), fc.option(fc.tuple(fc.string({ minLength: 1, maxLength: 12 }), junk), { freq: 12 })).map(([body, keepRequired, extra]) => {
    const out: Record<string, unknown> = { ...body };
    // Required fields are mostly there, so that most requests reach past the first check.
    if (keepRequired) for (const r of required) if (!(r in out)) out[r] = pools.keyIds[0] ?? 'x';
    if (extra) out[extra[0]] = extra[1];
    return out;
  });
}

/** The HUKS operations (docs/huks-protocol.md) and their body: alias, handle, options (properties by tag, inData). */
export const HUKS_OPERATIONS = ['generateKeyItem', 'importKeyItem', 'deleteKeyItem', 'hasKeyItem', 'initSession', 'updateSession', 'finishSession', 'abortSession'];
const HUKS_TAGS = [0x20000001, 0x20000002, 0x20000003, 0x20000004, 0x20000005, 0x20000006, 0x50000008, 0x50000009, 0x5000000a, 0x50002719];

export function huksBody(pools: Pools, handles: number[]): fc.Arbitrary<Record<string, unknown>> {
  const tagValue = fc.oneof(fc.constantFrom(0, 1, 2, 3, 5, 12, 20, 32, 50, 128, 192, 256, 512), fc.nat(), fc.base64String({ maxLength: 64 }), fc.boolean(), junk, hostileString);
  const property = fc.record({ tag: fc.oneof({ weight: 5, arbitrary: fc.constantFrom(...HUKS_TAGS) }, { weight: 1, arbitrary: fc.oneof(fc.integer(), junk) }), value: tagValue }, { requiredKeys: [] });
  const options = fc.oneof(
    { weight: 5, arbitrary: fc.record({ properties: fc.oneof(fc.array(property, { maxLength: 8 }), fc.array(property, { minLength: 60, maxLength: 70 }), junk), inData: fc.oneof(fc.base64String({ maxLength: 4000 }), hostileString, junk) }, { requiredKeys: [] }) },
    { weight: 1, arbitrary: junk },
  );
  const alias = fc.oneof(pools.aliases.length ? fc.constantFrom(...pools.aliases) : fc.constant('a'), hostileString, junk);
  const handle = fc.oneof(handles.length ? fc.constantFrom(...handles) : fc.nat(), fc.nat(), fc.constantFrom(-1, 0, 2 ** 53, 1.5), junk);
  return fc.record({ keyAlias: alias, handle, options }, { requiredKeys: [] });
}

/** The codes each face's documents list: Tencent codes (docs/errors.md), REST status and code pairs (docs/huawei-api.md), HUKS codes and statuses (docs/huks-protocol.md). */
export function documentedCodes(): { tencent: Set<string>; huawei: Set<string>; huks: Set<string> } {
  const read = (f: string) => fs.readFileSync(path.join(ROOT, 'docs', f), 'utf8');
  const tencent = new Set([...read('errors.md').matchAll(/^\| `([A-Za-z.]+)`/gm)].map((m) => m[1]));
  const huawei = new Set([...read('huawei-api.md').matchAll(/^\| (\d{3}) \| ([A-Z]+\.\d{4})/gm)].map((m) => `${m[1]} ${m[2]}`));
  // A row's statuses: its column ("413/429"), and any "HTTP NNN" its text gives for a case of the code.
  const huks = new Set(
    [...read('huks-protocol.md').matchAll(/^\| (\d{3,8}) \| ([\d/]+) \|(.*)$/gm)].flatMap((m) => [...m[2].split('/'), ...[...m[3].matchAll(/HTTP (\d{3})/g)].map((h) => h[1])].map((status) => `${status} ${m[1]}`)),
  );
  return { tencent, huawei, huks };
}

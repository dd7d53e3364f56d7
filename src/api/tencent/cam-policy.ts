import { OPERATIONS } from '../../accounts/operations';
import { ANY_RESOURCE, Policy, PolicyError, PolicyStatement, ResourcePattern, glob } from '../../accounts/policy';
import { PolicyLanguage } from '../../faces/face';

/**
 * Sub-user policies in the documented CAM syntax, turned into the core's structured policy:
 *
 *   {"version": "2.0", "statement": [
 *     {"effect": "allow" | "deny",
 *      "action": "name/kms:Encrypt" | ["name/kms:*", ...],
 *      "resource": "*" | "qcs::kms:<region>:<account>:key/creatorUin/<uin>/<keyId>" | [...]}]}
 *
 * `*` in an action or resource matches any run of characters; the action names are the core's
 * operation names. A resource may also end early in `:*` or `/*` (`qcs::kms:<region>:*`,
 * `...:key/*`, `...:key/creatorUin/*`). Conditions are not supported and are refused when a
 * policy is stored, rather than ignored (ignoring one could grant more than its author meant).
 */
export const camPolicyLanguage: PolicyLanguage = {
  empty: '{"version":"2.0","statement":[]}',
  parse: (text, strict) => parseCamPolicy(text, strict ? OPERATIONS : undefined),
};

function list(v: unknown, what: string, i: number): string[] {
  const items = typeof v === 'string' ? [v] : v;
  if (!Array.isArray(items) || items.length === 0 || items.some((x) => typeof x !== 'string' || x === '')) throw new PolicyError(`statement ${i}: "${what}" must be a non-empty string or list of strings`);
  return items as string[];
}

const FIELD = '([^:/]*)';
const FORMS: Array<[RegExp, (m: string[]) => ResourcePattern]> = [
  [new RegExp(`^${FIELD}:${FIELD}:key/creatorUin/${FIELD}/${FIELD}$`), ([, region, account, creator, keyId]) => ({ region, account, creator, keyId, accountWide: false })],
  [new RegExp(`^${FIELD}:${FIELD}:key/creatorUin/\\*$`), ([, region, account]) => ({ region, account, creator: '*', keyId: '*', accountWide: false })],
  [new RegExp(`^${FIELD}:${FIELD}:(?:key/)?\\*$`), ([, region, account]) => ({ region, account, creator: '*', keyId: '*', accountWide: true })],
  [new RegExp(`^${FIELD}:\\*$`), ([, region]) => ({ ...ANY_RESOURCE, region })],
  [/^\*$/, () => ANY_RESOURCE],
];

/**
 * One resource string as a structured pattern. A form outside FORMS (a `*` standing for several
 * fields mid-string) is refused when stored; read back from an older store, it fails closed:
 * an allow grants nothing by it, a deny denies everything.
 */
function resource(r: string, effect: 'allow' | 'deny', i: number, strict: boolean): ResourcePattern | undefined {
  if (r === '*') return ANY_RESOURCE;
  if (!r.startsWith('qcs::kms:')) throw new PolicyError(`statement ${i}: resource "${r}" is not "*" nor a qcs::kms: resource`);
  const rest = r.slice('qcs::kms:'.length);
  for (const [re, make] of FORMS) {
    const m = re.exec(rest);
    if (m) return make(m);
  }
  if (strict) throw new PolicyError(`statement ${i}: resource "${r}" is not of the form qcs::kms:<region>:<account>:key/creatorUin/<uin>/<keyId> (each part may use *)`);
  return effect === 'deny' ? ANY_RESOURCE : undefined;
}

/**
 * With `knownActions` (when a policy is stored), every action entry must name one of them or be
 * a wildcard matching at least one: a misspelt action would otherwise match nothing, and a deny
 * naming it would silently deny nothing. Without (a policy read back), none is checked.
 */
export function parseCamPolicy(text: string, knownActions?: readonly string[]): Policy {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    throw new PolicyError('the policy is not valid JSON');
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw new PolicyError('the policy must be a JSON object');
  const d = doc as Record<string, unknown>;
  if (d.version !== '2.0') throw new PolicyError('the policy "version" must be "2.0"');
  if (!Array.isArray(d.statement)) throw new PolicyError('the policy needs a "statement" list');
  for (const k of Object.keys(d)) if (k !== 'version' && k !== 'statement') throw new PolicyError(`unknown policy field "${k}"`);
  const statements = d.statement.map((s: unknown, i: number): PolicyStatement => {
    if (typeof s !== 'object' || s === null || Array.isArray(s)) throw new PolicyError(`statement ${i} must be an object`);
    const st = s as Record<string, unknown>;
    for (const k of Object.keys(st)) {
      if (k === 'condition') throw new PolicyError(`statement ${i}: conditions are not supported`);
      if (!['effect', 'action', 'resource'].includes(k)) throw new PolicyError(`statement ${i}: unknown field "${k}"`);
    }
    const effect = typeof st.effect === 'string' ? st.effect.toLowerCase() : '';
    if (effect !== 'allow' && effect !== 'deny') throw new PolicyError(`statement ${i}: "effect" must be allow or deny`);
    const operations = list(st.action, 'action', i).map((a) => {
      if (a === '*') return '*';
      const m = /^(?:name\/)?kms:([A-Za-z*]+)$/.exec(a);
      if (!m) throw new PolicyError(`statement ${i}: action "${a}" is not of the form name/kms:<Action>`);
      const re = glob(m[1]);
      if (knownActions && !knownActions.some((k) => re.test(k))) throw new PolicyError(`statement ${i}: action "${a}" matches no action of the API (action names are case-sensitive, e.g. name/kms:Decrypt)`);
      return m[1];
    });
    const resources = list(st.resource, 'resource', i).flatMap((r) => resource(r, effect, i, knownActions !== undefined) ?? []);
    return { effect, operations, resources };
  });
  return new Policy(statements);
}

import { UnauthorizedError } from '../common/domain-errors';
import { Principal } from './principal';

/**
 * Access policies in the documented CAM syntax:
 *
 *   {"version": "2.0", "statement": [
 *     {"effect": "allow" | "deny",
 *      "action": "name/kms:Encrypt" | ["name/kms:*", ...],
 *      "resource": "*" | "qcs::kms:<region>:<account>:key/creatorUin/<uin>/<keyId>" | [...]}]}
 *
 * `*` in an action or resource matches any run of characters. A matching deny wins over
 * any allow; without a matching allow the call is refused. Conditions are not supported
 * and are refused when a policy is stored, rather than ignored (ignoring one could grant
 * more than its author meant).
 */
export class PolicyError extends Error {}

/**
 * Injection token: the action names a policy may use, provided by the face whose policy
 * language this is. Checked when a policy is stored: a misspelt or unknown action would
 * otherwise match nothing, and a deny naming it would silently deny nothing.
 */
export const POLICY_ACTIONS = Symbol('POLICY_ACTIONS');

interface Statement {
  effect: 'allow' | 'deny';
  actions: RegExp[];
  resources: RegExp[];
  /** The creator uins the resource patterns can name, a `*` read as any digit run. */
  creators: string[];
}

const glob = (pattern: string): RegExp => new RegExp('^' + pattern.split('*').map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*') + '$');

function list(v: unknown, what: string, i: number): string[] {
  const items = typeof v === 'string' ? [v] : v;
  if (!Array.isArray(items) || items.length === 0 || items.some((x) => typeof x !== 'string' || x === '')) throw new PolicyError(`statement ${i}: "${what}" must be a non-empty string or list of strings`);
  return items as string[];
}

export class Policy {
  private constructor(private readonly statements: Statement[]) {}

  /**
   * With `knownActions` (when a policy is stored), every action entry must name one of them
   * or be a wildcard matching at least one; without (a policy read back), none is checked.
   */
  static parse(text: string, knownActions?: readonly string[]): Policy {
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
    const statements = d.statement.map((s: unknown, i: number): Statement => {
      if (typeof s !== 'object' || s === null || Array.isArray(s)) throw new PolicyError(`statement ${i} must be an object`);
      const st = s as Record<string, unknown>;
      for (const k of Object.keys(st)) {
        if (k === 'condition') throw new PolicyError(`statement ${i}: conditions are not supported`);
        if (!['effect', 'action', 'resource'].includes(k)) throw new PolicyError(`statement ${i}: unknown field "${k}"`);
      }
      const effect = typeof st.effect === 'string' ? st.effect.toLowerCase() : '';
      if (effect !== 'allow' && effect !== 'deny') throw new PolicyError(`statement ${i}: "effect" must be allow or deny`);
      const actions = list(st.action, 'action', i).map((a) => {
        if (a === '*') return glob('*');
        const m = /^(?:name\/)?kms:([A-Za-z*]+)$/.exec(a);
        if (!m) throw new PolicyError(`statement ${i}: action "${a}" is not of the form name/kms:<Action>`);
        const re = glob(m[1]);
        if (knownActions && !knownActions.some((k) => re.test(k))) throw new PolicyError(`statement ${i}: action "${a}" matches no action of the API (action names are case-sensitive, e.g. name/kms:Decrypt)`);
        return re;
      });
      const patterns = list(st.resource, 'resource', i);
      const resources = patterns.map((r) => {
        if (r !== '*' && !r.startsWith('qcs::kms:')) throw new PolicyError(`statement ${i}: resource "${r}" is not "*" nor a qcs::kms: resource`);
        return glob(r);
      });
      const creators = patterns.flatMap((r) => /\/creatorUin\/([^/]*)\//.exec(r)?.[1].replaceAll('*', '0') ?? []);
      return { effect, actions, resources, creators };
    });
    return new Policy(statements);
  }

  /**
   * Whether the action could be allowed on a key with this id, whoever created it: tried with
   * every creator the patterns name and with one that only a wildcard matches.
   */
  mayAllowKey(action: string, region: string, uin: string, keyId: string): boolean {
    const creators = new Set(['0', uin, ...this.statements.flatMap((s) => s.creators)]);
    return [...creators].some((c) => this.allows(action, keyResource(region, uin, c, keyId)));
  }

  allows(action: string, resource: string): boolean {
    const matches = (s: Statement) => s.actions.some((a) => a.test(action)) && s.resources.some((r) => r.test(resource));
    if (this.statements.some((s) => s.effect === 'deny' && matches(s))) return false;
    return this.statements.some((s) => s.effect === 'allow' && matches(s));
  }
}

/** The resource name of one key, and of "any key of the account" for account-wide actions. */
export const keyResource = (region: string, uin: string, creatorUin: string, keyId: string): string => `qcs::kms:${region}:${uin}:key/creatorUin/${creatorUin}/${keyId}`;
export const accountResource = (region: string, uin: string): string => `qcs::kms:${region}:${uin}:key/*`;

/**
 * Root credentials have every right on their own account (isolation is enforced by lookups);
 * sub-users only what their policy allows. `action` defaults to the call's own; a call that
 * also performs another action on a resource (ReEncrypt decrypts and encrypts) names it. The
 * message names neither the resource nor its creator: a refused caller learns nothing about the key.
 */
export function authorize(p: Principal, resource: string, action = p.action): void {
  if (p.policy && !p.policy.allows(action, resource)) throw refused(action);
}

/**
 * For a key id that names no key of the caller's: a sub-user whose policy could not allow the
 * action on that id whoever created it gets the refusal an existing key would give, so it
 * cannot tell which ids exist.
 */
export function authorizeUnknownKey(p: Principal, keyId: string, action = p.action): void {
  if (p.policy && !p.policy.mayAllowKey(action, p.region, p.uin, keyId)) throw refused(action);
}

const refused = (action: string): UnauthorizedError => new UnauthorizedError(`the caller is not authorized to ${action} on this resource`);

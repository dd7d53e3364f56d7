import { TencentError } from './tencent-error';

const FORBIDDEN_SEGMENTS = new Set(['__proto__', 'constructor', 'prototype']);
const MAX_FLAT_PARAMS = 2000;

const invalid = (name: string, why: string): TencentError => new TencentError('InvalidParameter', `${name} ${why}`);

/**
 * Flat form/query parameters (`KeyIds.0=a&Tags.0.TagKey=k`) to the nested shape a JSON body
 * has. Leaves stay strings; `loose` readers below accept numeric strings for numbers.
 */
export function unflatten(flat: Map<string, string>): Record<string, unknown> {
  if (flat.size > MAX_FLAT_PARAMS) throw new TencentError('InvalidParameter', `more than ${MAX_FLAT_PARAMS} parameters`);
  const root: Record<string, unknown> = Object.create(null);
  for (const [name, value] of flat) {
    const parts = name.split('.');
    if (parts.length > 4 || parts.some((p) => p === '' || FORBIDDEN_SEGMENTS.has(p))) throw invalid(name, 'is not a valid parameter name');
    let node: Record<string, unknown> = root;
    for (let i = 0; i < parts.length - 1; i++) {
      const next = node[parts[i]];
      if (next === undefined) node = node[parts[i]] = Object.create(null) as Record<string, unknown>;
      else if (typeof next === 'object' && next !== null) node = next as Record<string, unknown>;
      else throw invalid(parts.slice(0, i + 1).join('.'), 'is given both as a value and as a list');
    }
    const last = parts[parts.length - 1];
    if (typeof node[last] === 'object') throw invalid(name, 'is given both as a value and as a list');
    node[last] = value;
  }
  return toArrays(root) as Record<string, unknown>;
}

/** Objects whose keys are exactly 0..n-1 become arrays. */
function toArrays(v: unknown): unknown {
  if (typeof v !== 'object' || v === null) return v;
  const o = v as Record<string, unknown>;
  const keys = Object.keys(o);
  for (const k of keys) o[k] = toArrays(o[k]);
  if (keys.length > 0 && keys.every((k) => /^(0|[1-9]\d{0,3})$/.test(k))) {
    const arr: unknown[] = [];
    for (let i = 0; i < keys.length; i++) {
      if (!(String(i) in o)) return o;
      arr.push(o[String(i)]);
    }
    return arr;
  }
  return o;
}

/** Typed readers over one action's parameters; every misfit is a clear Tencent error. */
export class Params {
  constructor(private readonly obj: Record<string, unknown>, private readonly loose: boolean) {}

  names(): string[] {
    return Object.keys(this.obj);
  }

  private get(name: string): unknown {
    const v = Object.prototype.hasOwnProperty.call(this.obj, name) ? this.obj[name] : undefined;
    return v === null ? undefined : v;
  }

  str(name: string, required: true): string;
  str(name: string, required?: false): string | undefined;
  str(name: string, required = false): string | undefined {
    const v = this.get(name);
    if (v === undefined) {
      if (required) throw new TencentError('MissingParameter', `the parameter ${name} is required`);
      return undefined;
    }
    if (typeof v !== 'string') throw invalid(name, 'must be a string');
    return v;
  }

  /** A non-negative integer; `dflt` when absent. */
  uint(name: string, dflt?: number): number | undefined {
    const v = this.get(name);
    if (v === undefined) return dflt;
    let n: number;
    if (typeof v === 'number') n = v;
    else if (typeof v === 'string' && this.loose && /^\d{1,15}$/.test(v)) n = Number(v);
    else throw invalid(name, 'must be a non-negative integer');
    if (!Number.isSafeInteger(n) || n < 0) throw invalid(name, 'must be a non-negative integer');
    return n;
  }

  requiredUint(name: string): number {
    const n = this.uint(name);
    if (n === undefined) throw new TencentError('MissingParameter', `the parameter ${name} is required`);
    return n;
  }

  /**
   * Every list reader takes its bound, so no list reaches the core (or a SQL statement's
   * variables) longer than the documented limit.
   */
  strArray(name: string, max: number, required = false): string[] | undefined {
    const v = this.get(name);
    if (v === undefined) {
      if (required) throw new TencentError('MissingParameter', `the parameter ${name} is required`);
      return undefined;
    }
    if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) throw invalid(name, 'must be an array of strings');
    return bounded(name, v as string[], max);
  }

  objArray(name: string, max: number): Params[] | undefined {
    const v = this.get(name);
    if (v === undefined) return undefined;
    if (!Array.isArray(v) || v.some((x) => typeof x !== 'object' || x === null || Array.isArray(x))) throw invalid(name, 'must be an array of objects');
    return bounded(name, v, max).map((x) => new Params(x as Record<string, unknown>, this.loose));
  }
}

function bounded<T>(name: string, list: T[], max: number): T[] {
  if (list.length > max) throw invalid(name, `takes at most ${max} items`);
  return list;
}

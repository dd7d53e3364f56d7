import { Principal } from '../../accounts/principal';
import { Schema } from './answers';
import { Fields, Values } from './fields';

export interface RouteContext {
  principal: Principal;
  /** The validated JSON body (empty for a route without fields). */
  body: Values;
  /** The path's parameters besides project_id, decoded (`{key_id}`, ...). */
  params: Readonly<Record<string, string>>;
  query: URLSearchParams;
}

/** One row of the face's table: an endpoint, the core operation behind it, its fields and its handler. */
export interface RouteDef {
  /**
   * The endpoint's name, unique in the table (the path's last word where that is unique, as
   * `create-key`): rate limits are counted and configured (KMS_RATE_LIMITS) by it, and it is the
   * OpenAPI operationId.
   */
  name: string;
  method: 'GET' | 'POST' | 'DELETE';
  /** A path template under /v1.0/{project_id}/kms/, as the document writes it. */
  path: string;
  /**
   * The core operation it performs, as policies, rate limits and the audit trail name it
   * (CreateKey, Encrypt, ...).
   */
  operation: string;
  summary: string;
  /** The JSON body's fields; a route without them takes no body. */
  fields?: Fields;
  /** The JSON Schema of a success's body (none for a route that answers without one). */
  answer?: Schema;
  /** The HTTP status of a success (200 unless given). */
  status?: number;
  /** Default requests per second per account for the endpoint (KMS_RATE_LIMITS overrides it by `name`). */
  rateLimit: number;
  /**
   * Routes that concern no key and that the core does not authorize (gen-random, quotas) are
   * authorized here, against the account-wide resource; the core authorizes key operations.
   */
  accountWide?: boolean;
  /** The answer's body (JSON), or undefined for none. */
  run(ctx: RouteContext): Promise<unknown>;
}

/** A route with its template compiled for matching. */
export interface CompiledRoute {
  def: RouteDef;
  re: RegExp;
  names: string[];
}

export function compile(def: RouteDef): CompiledRoute {
  const names: string[] = [];
  const source = def.path
    .split('/')
    .map((seg) => {
      const m = /^\{(\w+)\}$/.exec(seg);
      if (!m) return seg.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      names.push(m[1]);
      return '([^/]+)';
    })
    .join('/');
  return { def, re: new RegExp(`^${source}$`), names };
}

/** The route a method and raw path name, with its raw (still encoded) parameters in the order of `names`. */
export function match(routes: readonly CompiledRoute[], method: string, path: string): { route: CompiledRoute; raw: string[] } | undefined {
  for (const r of routes) {
    if (r.def.method !== method) continue;
    const m = r.re.exec(path);
    if (m) return { route: r, raw: m.slice(1) };
  }
  return undefined;
}

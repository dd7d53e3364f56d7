import type { Type } from '@nestjs/common';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Policy } from '../accounts/policy';
import type { KmsConfig } from '../config/config';

/** Answers the requests routed to a face, errors included. */
export interface FaceHandler {
  handle(req: IncomingMessage, res: ServerResponse): Promise<void>;
  /** The face's OpenAPI 3 document, for faces that describe themselves (served at /_kms/openapi/<name>.json). */
  openapi?(): Record<string, unknown>;
}

/**
 * A policy language: turns the policy text stored for a sub-user into the core's structured
 * policy. `strict` (when a policy is stored) also refuses what would match nothing, such as an
 * unknown operation; a policy read back is parsed leniently.
 */
export interface PolicyLanguage {
  /** The text of a policy that allows nothing (a new sub-user's default). */
  readonly empty: string;
  parse(text: string, strict: boolean): Policy;
}

/** What serves a face's requests. */
export interface FaceHttp {
  /** The Nest module that builds the face. */
  readonly module: Type<unknown>;
  /** The provider of `module` that answers requests. */
  readonly handler: Type<FaceHandler>;
}

/**
 * One vendor-compatible API over the core. The registered faces are listed in src/api/faces.ts;
 * the server, the database and the CLI only iterate over them.
 */
export interface Face {
  /** As the audit trail names it. */
  readonly name: string;
  /** Requests whose path starts with it go to this face; `/` takes what no longer prefix takes. */
  readonly prefix: string;
  /**
   * Loads the face's request code. Only a serving process calls it: a CLI command never
   * evaluates a face's handlers, Express or the metrics (a fifth of a command's CPU).
   */
  http(): FaceHttp;
  /** Tables of the face's own (registered with the core's). */
  readonly entities?: readonly Type<unknown>[];
  /** Migrations of the face's own tables, run in timestamp order with the core's. */
  readonly migrations?: readonly Type<unknown>[];
  /** The language stored sub-user policies are written in; exactly one face provides it. */
  readonly policyLanguage?: PolicyLanguage;
  /** Run once in the primary process before workers start (state shared between workers). */
  servePrimary?(cfg: KmsConfig): void;
}

/** Injection tokens: the registered faces, and the policy language of stored policies. */
export const FACES = Symbol('FACES');
export const POLICY_LANGUAGE = Symbol('POLICY_LANGUAGE');

/** The single policy language among the faces. */
export function policyLanguageOf(faces: readonly Face[]): PolicyLanguage {
  const langs = faces.flatMap((f) => f.policyLanguage ?? []);
  if (langs.length !== 1) throw new Error(`exactly one face must provide the policy language, ${langs.length} do`);
  return langs[0];
}

/** Picks the face of a request path: the longest matching prefix wins. */
export function faceRouter<T>(routes: ReadonlyArray<{ prefix: string; target: T }>): (url: string) => T | undefined {
  const sorted = [...routes].sort((a, b) => b.prefix.length - a.prefix.length);
  return (url) => sorted.find((r) => url.startsWith(r.prefix))?.target;
}

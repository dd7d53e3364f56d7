import { Inject, Injectable } from '@nestjs/common';
import * as crypto from 'node:crypto';
import { IncomingMessage, ServerResponse } from 'node:http';
import { accountResource, authorize } from '../../accounts/policy';
import { assertKnownOperations } from '../../accounts/operations';
import { Principal } from '../../accounts/principal';
import { parseAccessToken } from '../../accounts/access-token';
import { regionOfProject } from '../../accounts/projects';
import { RequestAudit } from '../../audit/audit-context';
import { AuditTrail } from '../../audit/audit-trail';
import { RequestMetrics } from '../../metrics/request-metrics';
import { Log } from '../../common/logger';
import { KMS_CONFIG, KmsConfig } from '../../config/config';
import { CryptoService } from '../../crypto/crypto.service';
import { ImportService } from '../../import/import.service';
import { KeyTagsService } from '../../keys/key-tags.service';
import { KeysService } from '../../keys/keys.service';
import { RateLimiter } from '../../quotas/rate-limiter.service';
import { ClientGoneError, settleBody } from '../tencent/body-reader';
import { HuaweiAuthenticator } from './authenticator';
import { accountRoutes } from './endpoints/account.routes';
import { cryptoRoutes } from './endpoints/crypto.routes';
import { importRoutes } from './endpoints/import.routes';
import { keyRoutes } from './endpoints/key.routes';
import { tagRoutes } from './endpoints/tag.routes';
import { validate } from './fields';
import { HuaweiError, huaweiError } from './huawei-error';
import { toHuaweiError } from './huawei-errors';
import { openApiDocument } from './openapi';
import { bodyOnce, parseJson } from './request-reader';
import { CompiledRoute, RouteDef, compile, match } from './route';

/**
 * The Huawei Cloud KMS REST API v1.0: match the route, authenticate, check the project, limit
 * the rate, read and validate the body, run, answer. Errors carry the documented HTTP status
 * and `{"error": {"error_code", "error_msg"}, "error_code", "error_msg"}`. Like the other face,
 * the HTTP server hands requests to `handle` directly.
 */
@Injectable()
export class HuaweiFace {
  readonly routes: readonly RouteDef[];
  private readonly compiled: readonly CompiledRoute[];
  private readonly regions: readonly string[];

  constructor(
    @Inject(KMS_CONFIG) cfg: KmsConfig,
    private readonly auth: HuaweiAuthenticator,
    private readonly limiter: RateLimiter,
    keys: KeysService,
    cryptoService: CryptoService,
    tags: KeyTagsService,
    imports: ImportService,
    private readonly audit: AuditTrail,
    private readonly metrics: RequestMetrics,
  ) {
    this.routes = [...keyRoutes(keys), ...cryptoRoutes(cryptoService), ...accountRoutes(keys), ...tagRoutes(tags), ...importRoutes(imports, keys)];
    this.compiled = this.routes.map(compile);
    const names = new Set(this.routes.map((r) => r.name));
    if (names.size !== this.routes.length) throw new Error('two Huawei routes share a name');
    assertKnownOperations('huawei', this.routes.map((r) => r.operation));
    metrics.declare('huawei', this.routes.map((r) => r.operation));
    this.regions = cfg.regions.map((r) => r.name);
  }

  openapi(): Record<string, unknown> {
    return openApiDocument(this.routes, '1.0');
  }

  /** Answers one request and records it in the audit trail, whatever the outcome. */
  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const a = new RequestAudit(crypto.randomUUID().replaceAll('-', ''), this.audit.now());
    const e = a.event('huawei', req, await this.answer(req, res, a));
    this.metrics.observe('huawei', e.action, e.result, e.durationMs);
    this.audit.record(e);
  }

  /** Returns `Success` or the error code answered. */
  private async answer(req: IncomingMessage, res: ServerResponse, a: RequestAudit): Promise<string> {
    try {
      const url = req.url ?? '/';
      const q = url.indexOf('?');
      const rawPath = q < 0 ? url : url.slice(0, q);
      const rawQuery = q < 0 ? '' : url.slice(q + 1);
      const found = match(this.compiled, req.method ?? '', rawPath);
      if (!found) throw huaweiError('badUrl', `${req.method} ${rawPath} is not an endpoint of this API`);
      const def = found.route.def;
      const segments = found.raw.map(decodeSegment);
      const { project_id: projectId, ...params } = Object.fromEntries(found.route.names.map((n, i) => [n, segments[i]]));
      a.action = def.operation;
      a.secretId = claimedAk(req);
      this.audit.assertAccepting();
      const body = bodyOnce(req);
      const caller = await this.auth.authenticate({ method: req.method!, address: req.socket.remoteAddress ?? '', rawPath, rawQuery, headers: req.headers, body });
      a.account = caller.uin;
      a.secretId = caller.secretId;
      if (caller.callerUin !== caller.uin) a.subUser = caller.callerUin;
      // A project is one account's in one region: another account's id is refused as no project of the caller's.
      const region = regionOfProject(caller.uin, projectId, this.regions);
      const headerProject = req.headers['x-project-id'];
      if (!region || (headerProject !== undefined && headerProject !== projectId)) throw huaweiError('badProject', `project ${projectId.slice(0, 64)} is not a project of this account`);
      // Per endpoint: its own budget, apart from the other face's actions.
      if (!(await this.limiter.allow(caller.uin, def.name, def.rateLimit))) {
        throw huaweiError('throttled', `${def.name} is limited to ${this.limiter.limitFor(caller.uin, def.name, def.rateLimit)} requests per second per account`);
      }
      await caller.claimSignature?.();
      const raw = await body();
      if (!def.fields && raw.length > 0) throw huaweiError('invalid', `${def.method} ${def.path} takes no body`);
      const values = def.fields ? validate(def.fields, parseJson(raw)) : {};
      const principal: Principal = { uin: caller.uin, callerUin: caller.callerUin, region, secretId: caller.secretId, policy: caller.policy, action: def.operation, touched: a.keys };
      if (def.accountWide) authorize(principal, accountResource(region, caller.uin));
      const result = await def.run({ principal, body: values, params, query: new URLSearchParams(rawQuery) });
      await send(req, res, def.status ?? 200, result, a.requestId);
      return 'Success';
    } catch (e) {
      // The client's own doing, and nobody is left to read an answer.
      if (e instanceof ClientGoneError) {
        Log.debug('client went away mid-request', { requestId: a.requestId, operation: a.action });
        return 'ClientGone';
      }
      const err = toHuaweiError(e, a.requestId, a.action);
      await send(req, res, err.status, errorBody(err), a.requestId);
      return err.code;
    }
  }
}

/** Both forms: the documented nested one, and the flat one the SDKs read. */
const errorBody = (e: HuaweiError) => ({ error: { error_code: e.code, error_msg: e.message }, error_code: e.code, error_msg: e.message });

function decodeSegment(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    throw huaweiError('badUrl', 'the request path is not valid percent-encoding');
  }
}

/** The credential a request claims, for the record of a refusal: the AK, or an X-Auth-Token's id (never its secret). */
function claimedAk(req: IncomingMessage): string | undefined {
  const token = req.headers['x-auth-token'];
  if (typeof token === 'string') return parseAccessToken(token)?.id;
  const auth = req.headers.authorization;
  return auth === undefined ? undefined : /Access=([^,\s]{1,64})/.exec(auth)?.[1];
}


async function send(req: IncomingMessage, res: ServerResponse, status: number, body: unknown, requestId: string): Promise<void> {
  const settling = settleBody(req, res);
  if (settling) await settling;
  if (body === undefined) {
    res.writeHead(status, { 'X-Request-Id': requestId, 'Content-Length': 0 });
    res.end();
    return;
  }
  const json = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(json), 'X-Request-Id': requestId });
  res.end(json);
}

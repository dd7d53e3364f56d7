import { Inject, Injectable } from '@nestjs/common';
import * as crypto from 'node:crypto';
import { IncomingMessage, ServerResponse } from 'node:http';
import { accountResource, authorize } from '../../accounts/policy';
import { assertKnownOperations } from '../../accounts/operations';
import { Principal } from '../../accounts/principal';
import { RequestAudit } from '../../audit/audit-context';
import { AuditReader } from '../../audit/audit-reader';
import { AuditTrail } from '../../audit/audit-trail';
import { RequestMetrics } from '../../metrics/request-metrics';
import { Log } from '../../common/logger';
import { requestsInFlight } from '../../common/requests-in-flight';
import { turnCohort } from '../../common/turn-cohort';
import { KMS_CONFIG, KmsConfig } from '../../config/config';
import { AsymmetricService } from '../../crypto/asymmetric.service';
import { Sm2Service } from '../../crypto/sm2.service';
import { CryptoService } from '../../crypto/crypto.service';
import { ImportService } from '../../import/import.service';
import { KeyTagsService } from '../../keys/key-tags.service';
import { KeysService } from '../../keys/keys.service';
import { RotationService } from '../../rotation/rotation.service';
import { ActionDef } from './actions/action';
import { asymmetricActions } from './actions/asymmetric.actions';
import { auditActions } from './actions/audit.actions';
import { sm2Actions } from './actions/sm2.actions';
import { cryptoActions } from './actions/crypto.actions';
import { deploymentActions } from './actions/deployment.actions';
import { importActions } from './actions/import.actions';
import { keyActions } from './actions/key.actions';
import { keyDetailActions } from './actions/key-detail.actions';
import { lifecycleActions } from './actions/lifecycle.actions';
import { rotationActions } from './actions/rotation.actions';
import { serviceActions } from './actions/service.actions';
import { Authenticator } from './authenticator';
import { DEFAULT_RATE_LIMITS, FALLBACK_RATE_LIMIT } from './rate-limits';
import { RateLimiter } from '../../quotas/rate-limiter.service';
import { ClientGoneError, settleBody } from './body-reader';
import { TencentError } from './tencent-error';
import { toTencentError } from './tencent-errors';
import { TencentCall, readCall } from './tencent-request';

export const API_VERSION = '2019-01-18';

/**
 * The Tencent Cloud KMS Action API (2019-01-18): read, authenticate, dispatch, answer.
 * Every answer, errors included, is HTTP 200 in the `Response` envelope, because the
 * official SDKs read error codes only from 200 bodies. The HTTP server hands requests to
 * `handle` directly: the hot path skips Express and Nest's router (about a tenth of a
 * request's CPU time), while Nest still builds and injects everything behind it.
 */
@Injectable()
export class TencentFace {
  private readonly actions = new Map<string, ActionDef>();
  private readonly regions: Set<string>;

  constructor(
    @Inject(KMS_CONFIG) cfg: KmsConfig,
    private readonly auth: Authenticator,
    private readonly limiter: RateLimiter,
    keys: KeysService,
    keyTags: KeyTagsService,
    cryptoService: CryptoService,
    rotation: RotationService,
    imports: ImportService,
    asymmetric: AsymmetricService,
    sm2: Sm2Service,
    private readonly audit: AuditTrail,
    auditReader: AuditReader,
    private readonly metrics: RequestMetrics,
  ) {
    for (const a of [...keyActions(keys), ...keyDetailActions(keys, keyTags), ...lifecycleActions(keys), ...cryptoActions(cryptoService), ...asymmetricActions(asymmetric, sm2), ...sm2Actions(sm2), ...rotationActions(rotation), ...importActions(imports), ...deploymentActions(cryptoService), ...serviceActions(cfg), ...auditActions(auditReader)]) this.actions.set(a.name, a);
    this.regions = new Set(cfg.regions.map((r) => r.name));
    // Each action is a core operation of the same name: what policies, limits and the audit trail name.
    assertKnownOperations('tencent', this.actions.keys());
    metrics.declare('tencent', this.actions.keys());
  }

  /** Answers one request and records it in the audit trail, whatever the outcome. */
  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const a = new RequestAudit(crypto.randomUUID(), this.audit.now());
    const e = a.event('tencent', req, await this.answer(req, res, a));
    this.metrics.observe('tencent', e.action, e.result, e.durationMs);
    this.audit.record(e);
  }

  /** Returns `Success` or the error code answered. */
  private async answer(req: IncomingMessage, res: ServerResponse, a: RequestAudit): Promise<string> {
    const requestId = a.requestId;
    let action: string | undefined;
    // Verdicts still on their way (the rate counter, the signature's claim): each refusal
    // decides the answer over any error found meanwhile, the rate limit first.
    let allowed: Promise<boolean> | undefined;
    let binding: Promise<void> | undefined;
    let refusedByLimit: (() => TencentError) | undefined;
    const settled = async (): Promise<void> => {
      if (allowed && !(await allowed)) throw refusedByLimit!();
      if (binding) await binding;
    };
    try {
      const call = await readCall(req);
      action = call.action;
      a.action = clip(call.action);
      a.secretId = claimedSecretId(call);
      this.audit.assertAccepting();
      const caller = await this.auth.authenticate(call);
      a.account = caller.uin;
      if (caller.callerUin !== caller.uin) a.subUser = caller.callerUin;
      const def = this.actions.get(call.action);
      if (!def) throw new TencentError('InvalidAction', `the action ${call.action} does not exist`);
      const limit = DEFAULT_RATE_LIMITS[def.name] ?? FALLBACK_RATE_LIMIT;
      refusedByLimit = () => new TencentError('RequestLimitExceeded', `${def.name} is limited to ${this.limiter.limitFor(caller.uin, def.name, limit)} requests per second per account`);
      // A lone request's stateless action runs while its verdicts travel (see requestsInFlight);
      // any other waits for the rate counter before it goes on.
      const overlap = def.stateless === true && requestsInFlight.alone();
      allowed = this.limiter.allow(caller.uin, def.name, limit);
      allowed.catch(() => undefined);
      if (!overlap) await settled();
      if (call.version !== API_VERSION) throw new TencentError('NoSuchVersion', `the version ${call.version} does not exist; this API is ${API_VERSION}`);
      if (!call.region && !def.regionOptional) throw new TencentError('MissingParameter', 'the common parameter Region is required');
      if (call.region && !this.regions.has(call.region)) throw new TencentError('UnsupportedRegion', `the region ${call.region} is not served here`);
      // In flight while the parameters are read.
      binding = caller.claimBinding?.(def.name, call.region ?? '');
      binding?.catch(() => undefined);
      const params = call.readParams();
      for (const name of params.names()) if (!def.params.includes(name)) throw new TencentError('UnknownParameter', `the action ${def.name} has no parameter ${name}`);
      const principal: Principal = { uin: caller.uin, callerUin: caller.callerUin, region: call.region ?? '', secretId: caller.secretId, policy: caller.policy, action: def.name, touched: a.keys };
      if (def.accountWide) authorize(principal, accountResource(principal.region, principal.uin));
      // Nothing of this request travels to the primary (TC3 signed with its action and region,
      // or v1, with rate limits off): go on with the other requests of this turn, as a claim's
      // answer would have released them.
      if (binding === undefined && !this.limiter.counts) await turnCohort();
      let result: Record<string, unknown>;
      if (overlap) {
        const running = def.run({ principal, params });
        running.catch(() => undefined); // read below, once the verdicts are in
        await settled();
        result = await running;
      } else {
        await settled();
        result = await def.run({ principal, params });
      }
      await sendJson(req, res, { Response: { ...result, RequestId: requestId } });
      return 'Success';
    } catch (e) {
      // The client's own doing, and nobody is left to read an answer.
      if (e instanceof ClientGoneError) {
        Log.debug('client went away mid-request', { requestId, action });
        return 'ClientGone';
      }
      const err = toTencentError(await settled().then(() => e, (refused: unknown) => refused), requestId, action);
      await sendJson(req, res, { Response: { Error: { Code: err.code, Message: err.message }, RequestId: requestId } });
      return err.code;
    }
  }
}

/** What a caller names is recorded, before anything checks it, at most this long: a record's size stays bounded. */
const clip = (s: string | undefined): string | undefined => (s && s.length > 64 ? s.slice(0, 64) : s);

/** The SecretId a request names, verified or not: refusals are recorded with it too. */
function claimedSecretId(call: TencentCall): string | undefined {
  if (call.v1Params) return clip(call.v1Params.get('SecretId') ?? undefined);
  const auth = call.headers.authorization;
  return auth === undefined ? undefined : /Credential=([^/,\s]{1,64})/.exec(auth)?.[1];
}

async function sendJson(req: IncomingMessage, res: ServerResponse, body: unknown): Promise<void> {
  const settling = settleBody(req, res);
  if (settling) await settling;
  const json = JSON.stringify(body);
  res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(json) });
  res.end(json);
}

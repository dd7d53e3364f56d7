import { Inject, Injectable, OnApplicationShutdown } from '@nestjs/common';
import cluster from 'node:cluster';
import * as crypto from 'node:crypto';
import { IncomingMessage, ServerResponse } from 'node:http';
import { TLSSocket } from 'node:tls';
import { accountResource, authorize } from '../../accounts/policy';
import { assertKnownOperations } from '../../accounts/operations';
import { Principal } from '../../accounts/principal';
import { RequestAudit } from '../../audit/audit-context';
import { AuditTrail } from '../../audit/audit-trail';
import { RequestMetrics } from '../../metrics/request-metrics';
import { Clock } from '../../common/clock';
import { KeyNotFoundError } from '../../common/domain-errors';
import { Log } from '../../common/logger';
import { KMS_CONFIG, KmsConfig } from '../../config/config';
import { AsymmetricService } from '../../crypto/asymmetric.service';
import { MIN_DELETION_WINDOW_DAYS, KeysService } from '../../keys/keys.service';
import { KeyStreamsService } from '../../keys/key-streams.service';
import { RateLimiter } from '../../quotas/rate-limiter.service';
import { ClientGoneError, readBody, settleBody } from '../tencent/body-reader';
import { SignatureUse } from '../../http/hmac-request-verifier';
import { HuksAuthenticator } from './authenticator';
import { isHandle } from './handles';
import { huksConfig } from './huks-config';
import { huksError } from './huks-error';
import { toHuksError } from './huks-errors';
import { keySpecOf, sessionPlanOf } from './key-rules';
import { Properties, TAG, base64, parseProperties } from './properties';
import { ClusterSlots, LocalSlots, SessionRouter, WorkerIpc } from './session-router';
import { SessionStep, SessionTable } from './session-table';
import { URL_PREFIX } from './huks.face';

/** A request body: a 1 MiB inData in base64 with its properties fits. */
export const MAX_BODY_BYTES = 2 * 1024 * 1024;
export const MAX_IN_DATA_BYTES = 1024 * 1024;
const MAX_ALIAS_CHARS = 128;

interface Op {
  /** The core operation a policy names; a session's is its purpose's, decided at init. */
  operation?: string;
  /** Requests per second per account by default (KMS_RATE_LIMITS overrides by the operation's name here). */
  rate: number;
}

const OPS: Readonly<Record<string, Op>> = {
  generateKeyItem: { operation: 'CreateKey', rate: 100 },
  importKeyItem: { operation: 'CreateKey', rate: 100 },
  deleteKeyItem: { operation: 'ScheduleKeyDeletion', rate: 20 },
  hasKeyItem: { operation: 'DescribeKey', rate: 100 },
  exportKeyItem: { operation: 'GetPublicKey', rate: 100 },
  initSession: { rate: 300 },
  updateSession: { rate: 2000 },
  finishSession: { rate: 2000 },
  abortSession: { rate: 2000 },
};

/** The operations on an open session. */
const STEPS: ReadonlySet<string> = new Set(['updateSession', 'finishSession', 'abortSession']);

type Body = Record<string, unknown>;
type Answer = Record<string, unknown>;

const isLoopback = (a: string | undefined) => a === '127.0.0.1' || a === '::1' || a === '::ffff:127.0.0.1' || (a ?? '').startsWith('127.');

/**
 * The HUKS session face (docs/huks-protocol.md): signed JSON calls under /huks/v1/, keys
 * named by alias, and init/update/finish/abort sessions whose work runs in the token in
 * parts. Every request is recorded in the audit trail as face `huks`.
 */
@Injectable()
export class HuksFace implements OnApplicationShutdown {
  private readonly regions: readonly string[];
  private readonly table: SessionTable;
  private readonly router: SessionRouter;

  constructor(
    @Inject(KMS_CONFIG) cfg: KmsConfig,
    private readonly auth: HuksAuthenticator,
    private readonly limiter: RateLimiter,
    private readonly keys: KeysService,
    private readonly streams: KeyStreamsService,
    private readonly pairs: AsymmetricService,
    private readonly audit: AuditTrail,
    clock: Clock,
    private readonly metrics: RequestMetrics,
  ) {
    assertKnownOperations('huks', [...Object.values(OPS).flatMap((o) => o.operation ?? []), 'Encrypt', 'Decrypt', 'GenerateMac', 'SignByAsymmetricKey', 'VerifyByAsymmetricKey', 'AsymmetricRsaDecrypt', 'ImportKeyMaterial']);
    this.regions = cfg.regions.map((r) => r.name);
    metrics.declare('huks', Object.keys(OPS));
    const ipc = cluster.isWorker ? new WorkerIpc() : undefined;
    this.table = new SessionTable(huksConfig(), clock, ipc ? new ClusterSlots(ipc) : new LocalSlots());
    ipc?.attach(this.table);
    this.router = new SessionRouter(this.table, ipc);
  }

  onApplicationShutdown(): void {
    this.table.close();
  }

  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const a = new RequestAudit(crypto.randomUUID().replaceAll('-', ''), this.audit.now());
    const e = a.event('huks', req, await this.answer(req, res, a));
    this.metrics.observe('huks', e.action, e.result, e.durationMs);
    this.audit.record(e);
  }

  private async answer(req: IncomingMessage, res: ServerResponse, a: RequestAudit): Promise<string> {
    try {
      const rawPath = (req.url ?? '/').split('?')[0];
      const name = rawPath.slice(URL_PREFIX.length);
      const op = Object.hasOwn(OPS, name) ? OPS[name] : undefined;
      if (!op || req.method !== 'POST') throw huksError('UnknownOperation', `${req.method} ${rawPath.slice(0, 100)} is not an operation of this API (POST ${URL_PREFIX}<operation>)`);
      a.action = name;
      a.secretId = /Access=([^,\s]{1,64})/.exec(String(req.headers.authorization ?? ''))?.[1];
      this.audit.assertAccepting();
      let read: Promise<Buffer> | undefined;
      const body = () => (read ??= readBody(req, MAX_BODY_BYTES, (limit) => huksError('TooLarge', `the request body is larger than ${limit / 1024 / 1024} MiB`)));
      const caller = await this.auth.authenticate({ method: 'POST', address: req.socket.remoteAddress ?? '', rawPath, headers: req.headers, body });
      a.account = caller.uin;
      a.secretId = caller.secretId;
      if (caller.callerUin !== caller.uin) a.subUser = caller.callerUin;
      const region = String(req.headers['x-kms-region'] ?? '');
      if (!this.regions.includes(region)) throw huksError('InvalidArgument', `X-Kms-Region names no region this service serves (${this.regions.join(', ')})`);
      if (!(await this.limiter.allow(caller.uin, name, op.rate))) throw huksError('Throttled', `${name} is limited to ${this.limiter.limitFor(caller.uin, name, op.rate)} requests per second per account`);
      // A session's steps keep their signatures' single use in the session (session-table.ts).
      if (!STEPS.has(name)) await caller.claimSignature();
      const parsed = parseBody(await body());
      const principal: Principal = { uin: caller.uin, callerUin: caller.callerUin, region, secretId: caller.secretId, policy: caller.policy, action: op.operation ?? name, touched: a.keys };
      const result = await this.run(name, principal, parsed, req, caller.signature);
      await send(req, res, 200, result, a.requestId);
      return 'Success';
    } catch (e) {
      if (e instanceof ClientGoneError) {
        Log.debug('client went away mid-request', { requestId: a.requestId, operation: a.action });
        return 'ClientGone';
      }
      const err = toHuksError(e, a.requestId, a.action);
      await send(req, res, err.status, { error: { code: err.code, message: err.message, reason: err.reason }, requestId: a.requestId }, a.requestId);
      return String(err.code);
    }
  }

  private async run(name: string, p: Principal, body: Body, req: IncomingMessage, signature: SignatureUse): Promise<Answer> {
    switch (name) {
      case 'generateKeyItem':
      case 'importKeyItem': {
        const alias = aliasOf(body);
        const opts = optionsOf(body);
        const props = parseProperties(opts.properties);
        const { keySpec, keyUsage, bytes } = keySpecOf(props);
        if (name === 'generateKeyItem') {
          await this.keys.create(p, { alias, keySpec, keyUsage, description: '' });
          return {};
        }
        if (bytes === undefined) throw huksError('Unsupported', 'key pairs are made in the key store (generateKeyItem), never imported');
        if (!(req.socket instanceof TLSSocket) && !isLoopback(req.socket.remoteAddress)) {
          throw huksError('InsecureTransport', 'plain key material is accepted only over TLS or from the loopback address');
        }
        authorize(p, accountResource(p.region, p.uin), 'ImportKeyMaterial');
        const material = base64(opts.inData, 'options.inData', 1024);
        if (material.length !== bytes) {
          material.fill(0);
          throw huksError('InvalidParameter', `the key material is ${material.length} bytes; a ${bytes * 8}-bit key takes ${bytes}`);
        }
        await this.keys.create(p, { alias, keySpec, material, description: '' });
        return {};
      }
      case 'deleteKeyItem': {
        const rec = await this.keys.getByAlias(p, aliasOf(body));
        // HUKS deletes at once; here the key is disabled and its deletion scheduled, as the other faces do it.
        if (rec.key.keyState === 'Enabled' || rec.key.keyState === 'Archived') await this.keys.setEnabledMany({ ...p, action: 'DisableKey' }, [rec.key.keyId], false);
        await this.keys.scheduleDeletion(p, rec.key.keyId, MIN_DELETION_WINDOW_DAYS);
        return {};
      }
      case 'hasKeyItem': {
        try {
          const rec = await this.keys.getByAlias(p, aliasOf(body));
          return { exists: rec.key.keyState !== 'PendingDelete' };
        } catch (e) {
          if (e instanceof KeyNotFoundError) return { exists: false };
          throw e;
        }
      }
      case 'exportKeyItem': {
        // A key pair's public key (SubjectPublicKeyInfo DER), as HUKS exports it; secret keys never leave.
        const rec = await this.keys.getByAlias(p, aliasOf(body));
        return { outData: await this.pairs.publicKey(p, rec.key.keyId) };
      }
      case 'initSession': {
        const alias = aliasOf(body);
        const props = parseProperties(optionsOf(body).properties);
        const plan = sessionPlanOf(props);
        const principal = { ...p, action: plan.action };
        const start = () => (plan.pair ? this.pairs.openStream(principal, alias, plan.spec) : this.streams.open(principal, alias, plan.spec, plan.bytes));
        const handle = await this.table.open(p.uin, plan.spec, start);
        return { handle };
      }
      default: {
        const step = name === 'updateSession' ? 'update' : name === 'finishSession' ? 'finish' : 'abort';
        const handle = body.handle;
        if (!isHandle(handle)) throw huksError('InvalidArgument', 'handle must be the number initSession answered');
        const opts = optionsOf(body);
        const props = parseProperties(opts.properties);
        const data = opts.inData === undefined ? Buffer.alloc(0) : base64(opts.inData, 'options.inData', MAX_IN_DATA_BYTES);
        const out = await this.router.run({ uin: p.uin, handle, step, data, signature, ...gcmProps(props) });
        return step === 'abort' ? {} : { outData: out };
      }
    }
  }
}

function gcmProps(props: Properties): Pick<SessionStep, 'tag' | 'nonce' | 'aad'> {
  const tag = props.bytes(TAG.AE_TAG);
  if (tag && tag.length !== 16) throw huksError('InvalidParameter', 'HUKS_TAG_AE_TAG must be 16 bytes');
  return { tag, nonce: props.bytes(TAG.NONCE), aad: props.bytes(TAG.ASSOCIATED_DATA) };
}

function parseBody(raw: Buffer): Body {
  let v: unknown;
  try {
    v = JSON.parse(raw.toString('utf8'));
  } catch {
    throw huksError('InvalidArgument', 'the request body is not valid JSON');
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw huksError('InvalidArgument', 'the request body must be a JSON object');
  const nonce = (v as Body).nonce;
  if (nonce !== undefined && (typeof nonce !== 'string' || nonce.length < 1 || nonce.length > 64)) throw huksError('InvalidArgument', 'nonce must be a string of 1 to 64 characters');
  return v as Body;
}

function aliasOf(body: Body): string {
  const alias = body.keyAlias;
  if (typeof alias !== 'string' || alias.length < 1 || alias.length > MAX_ALIAS_CHARS) throw huksError('InvalidArgument', `keyAlias must be a string of 1 to ${MAX_ALIAS_CHARS} characters`);
  // PostgreSQL cannot store NUL in text, and no control character belongs in a name.
  if (/[\u0000-\u001f\u007f]/.test(alias)) throw huksError('InvalidArgument', 'keyAlias must not contain control characters');
  return alias;
}

function optionsOf(body: Body): { properties?: unknown; inData?: unknown } {
  const o = body.options ?? {};
  if (typeof o !== 'object' || o === null || Array.isArray(o)) throw huksError('InvalidArgument', 'options must be an object');
  return o as { properties?: unknown; inData?: unknown };
}

/**
 * An answer's JSON; `outData` (bytes) is written as base64 straight into the body, since
 * base64 needs no escaping and a segment's worth through JSON.stringify and a UTF-8 encoding
 * costs more than the token's work on it.
 */
function answerBody(body: Record<string, unknown>): Buffer {
  const { outData, ...rest } = body;
  if (!Buffer.isBuffer(outData)) return Buffer.from(JSON.stringify(body));
  const head = JSON.stringify(rest).slice(0, -1);
  return Buffer.concat([Buffer.from(`${head}${head.length > 1 ? ',' : ''}"outData":"`), Buffer.from(outData.toString('base64'), 'latin1'), Buffer.from('"}')]);
}

async function send(req: IncomingMessage, res: ServerResponse, status: number, body: Record<string, unknown>, requestId: string): Promise<void> {
  const settling = settleBody(req, res);
  if (settling) await settling;
  const json = answerBody(body);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': json.length, 'X-Request-Id': requestId });
  res.end(json);
}

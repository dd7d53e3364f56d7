import { All, Controller, Inject, Req, Res } from '@nestjs/common';
import type { Request, Response } from 'express';
import * as crypto from 'node:crypto';
import { IncomingMessage, ServerResponse } from 'node:http';
import { KMS_CONFIG, KmsConfig } from '../../config/config';
import { CryptoService } from '../../crypto/crypto.service';
import { KeysService } from '../../keys/keys.service';
import { ActionDef } from './actions/action';
import { cryptoActions } from './actions/crypto.actions';
import { keyActions } from './actions/key.actions';
import { serviceActions } from './actions/service.actions';
import { Authenticator } from './authenticator';
import { readBody } from './body-reader';
import { TencentError } from './tencent-error';
import { toTencentError } from './tencent-errors';
import { LIMITS, mediaType, parseCall } from './tencent-request';

export const API_VERSION = '2019-01-18';

/**
 * The Tencent Cloud KMS Action API (2019-01-18) on `/`: read, authenticate, dispatch, answer.
 * Every answer, errors included, is HTTP 200 in the `Response` envelope, because the
 * official SDKs read error codes only from 200 bodies.
 */
@Controller()
export class TencentController {
  private readonly actions = new Map<string, ActionDef>();
  private readonly regions: Set<string>;

  constructor(@Inject(KMS_CONFIG) cfg: KmsConfig, private readonly auth: Authenticator, keys: KeysService, cryptoService: CryptoService) {
    for (const a of [...keyActions(keys), ...cryptoActions(cryptoService), ...serviceActions(cfg)]) this.actions.set(a.name, a);
    this.regions = new Set(cfg.regions.map((r) => r.name));
  }

  @All(['/', '{*path}'])
  async handle(@Req() req: Request, @Res() res: Response): Promise<void> {
    const requestId = crypto.randomUUID();
    let action: string | undefined;
    try {
      const method = req.method;
      if (method !== 'GET' && method !== 'POST') throw new TencentError('UnsupportedProtocol', `HTTP ${method} is not supported; use POST or GET`);
      const url = req.originalUrl;
      let body: Buffer = Buffer.alloc(0);
      if (method === 'GET') {
        if (url.length > LIMITS.get) throw new TencentError('InvalidParameter', `a GET request is limited to ${LIMITS.get / 1024} KB`);
        req.resume();
      } else {
        const limit = mediaType(req.headers) === 'application/x-www-form-urlencoded' ? LIMITS.v1Post : LIMITS.tc3Post;
        body = await readBody(req, limit);
      }
      const call = parseCall(method, url, req.headers, body);
      action = call.action;
      const caller = await this.auth.authenticate(call);
      const def = this.actions.get(call.action);
      if (!def) throw new TencentError('InvalidAction', `the action ${call.action} does not exist`);
      if (call.version !== API_VERSION) throw new TencentError('NoSuchVersion', `the version ${call.version} does not exist; this API is ${API_VERSION}`);
      if (!call.region && !def.regionOptional) throw new TencentError('MissingParameter', 'the common parameter Region is required');
      if (call.region && !this.regions.has(call.region)) throw new TencentError('UnsupportedRegion', `the region ${call.region} is not served here`);
      for (const name of call.params.names()) if (!def.params.includes(name)) throw new TencentError('UnknownParameter', `the action ${def.name} has no parameter ${name}`);
      const result = await def.run({ principal: { uin: caller.uin, callerUin: caller.uin, region: call.region ?? '', secretId: caller.secretId }, params: call.params });
      this.send(res, { Response: { ...result, RequestId: requestId } });
    } catch (e) {
      const err = toTencentError(e, requestId, action);
      this.send(res, { Response: { Error: { Code: err.code, Message: err.message }, RequestId: requestId } });
    }
  }

  private send(res: Response, body: unknown): void {
    sendJson(res, body);
  }
}

function sendJson(res: ServerResponse, body: unknown): void {
  const json = JSON.stringify(body);
  res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(json) });
  res.end(json);
}

/**
 * Express middleware, installed ahead of every route: a path that is not valid
 * percent-encoding would otherwise fail inside the router with a bare 400.
 */
export function rejectUndecodablePaths(req: IncomingMessage, res: ServerResponse, next: () => void): void {
  try {
    decodeURIComponent((req.url ?? '/').split('?')[0]);
  } catch {
    req.resume();
    sendJson(res, { Response: { Error: { Code: 'InvalidParameter', Message: 'the request path is not valid percent-encoding' }, RequestId: crypto.randomUUID() } });
    return;
  }
  next();
}

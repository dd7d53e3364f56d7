import { Controller, Get, Inject, Param, Req, Res } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import type { Request, Response } from 'express';
import { KMS_CONFIG, KmsConfig } from './config/config';
import { FACES, Face, FaceHandler } from './faces/face';
import { Token } from './hsm/token';
import { OperatorAccess, operatorAccess } from './metrics/metrics-access';
import { Readiness } from './metrics/readiness';

/**
 * Operator endpoints. Liveness, unauthenticated, for operators, load balancers and tests: 200
 * `{"status":"up"}` when the token is reachable, 503 `{"status":"down"}` while it is away; the
 * answer says nothing more (no versions, process ids, token details or counts). Readiness:
 * the same, with which part (database, token, audit trail) is down; it costs a database query
 * and tells what is broken, so it is served as the metrics are (KMS_METRICS_ALLOW, on the
 * admin port when there is one). And the OpenAPI documents of the faces that describe
 * themselves, which are public.
 */
@Controller('_kms')
export class HealthController {
  private readonly readyRefusal: OperatorAccess;

  constructor(
    @Inject(Token) private readonly token: Token,
    @Inject(FACES) private readonly faces: readonly Face[],
    private readonly modules: ModuleRef,
    private readonly readiness: Readiness,
    @Inject(KMS_CONFIG) cfg: KmsConfig,
  ) {
    this.readyRefusal = operatorAccess(cfg, '/_kms/ready');
  }

  @Get('health')
  health(@Res() res: Response): void {
    const up = this.token.available;
    res.status(up ? 200 : 503).json({ status: up ? 'up' : 'down' });
  }

  /** To allowed callers: 200 `{"status":"ready","database":"up","token":"up","audit":"up"}`, or 503 `{"status":"down",...}` naming the part that is down. */
  @Get('ready')
  async ready(@Req() req: Request, @Res() res: Response): Promise<void> {
    const refused = this.readyRefusal(req.socket.localPort, req.socket.remoteAddress);
    if (refused) return void res.status(refused.status).json({ error: refused.error });
    const { ready, ...parts } = await this.readiness.check();
    res.status(ready ? 200 : 503).json({ status: ready ? 'ready' : 'down', ...parts });
  }

  /** GET /_kms/openapi/<face>.json */
  @Get('openapi/:file')
  openapi(@Param('file') file: string, @Res() res: Response): void {
    const face = this.faces.find((f) => `${f.name}.json` === file);
    const handler = face && this.modules.get<FaceHandler>(face.http().handler, { strict: false });
    const doc = handler?.openapi?.();
    if (!doc) res.status(404).json({ error: `no OpenAPI document ${file}; the faces that have one: ${this.described().join(', ') || 'none'}` });
    else res.status(200).json(doc);
  }

  private described(): string[] {
    return this.faces.filter((f) => this.modules.get<FaceHandler>(f.http().handler, { strict: false }).openapi).map((f) => `${f.name}.json`);
  }
}

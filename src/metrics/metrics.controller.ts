import { Controller, Get, Inject, Req, Res } from '@nestjs/common';
import type { Request, Response } from 'express';
import { Registry } from 'prom-client';
import { Log } from '../common/logger';
import { KMS_CONFIG, KmsConfig } from '../config/config';
import { OperatorAccess, operatorAccess } from './metrics-access';
import { scrape } from './metrics-cluster';
import { METRICS_REGISTRY } from './request-metrics';

/**
 * GET /_kms/metrics, Prometheus text for the whole instance, to callers whose address is in
 * KMS_METRICS_ALLOW (the loopback by default); others get 403 and learn nothing more. With
 * KMS_ADMIN_PORT, only on that port: the API port answers 404.
 */
@Controller('_kms')
export class MetricsController {
  private readonly refusal: OperatorAccess;

  constructor(@Inject(METRICS_REGISTRY) private readonly registry: Registry, @Inject(KMS_CONFIG) cfg: KmsConfig) {
    this.refusal = operatorAccess(cfg, '/_kms/metrics');
  }

  @Get('metrics')
  async metrics(@Req() req: Request, @Res() res: Response): Promise<void> {
    const refused = this.refusal(req.socket.localPort, req.socket.remoteAddress);
    if (refused) return void res.status(refused.status).json({ error: refused.error });
    try {
      const text = await scrape(this.registry);
      res.status(200).type(this.registry.contentType).send(text);
    } catch (e) {
      Log.warn('metrics scrape failed', { error: (e as Error).message });
      res.status(503).json({ error: 'the metrics could not be collected; retry' });
    }
  }
}

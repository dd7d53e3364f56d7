import { Global, Inject, Module, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import cluster from 'node:cluster';
import { Registry } from 'prom-client';
import { AccountsModule } from '../accounts/accounts.module';
import { KeysModule } from '../keys/keys.module';
import { QuotasModule } from '../quotas/quotas.module';
import { CoreMetrics } from './core-metrics';
import { answerCollections, processRegistry, registerWorkersReporting } from './metrics-cluster';
import { MetricsController } from './metrics.controller';
import { Readiness } from './readiness';
import { METRICS_REGISTRY, RequestMetrics } from './request-metrics';

/** A worker answers the primary's collection requests while it serves. */
class ClusterCollection implements OnApplicationBootstrap, OnApplicationShutdown {
  private stop?: () => void;
  constructor(@Inject(METRICS_REGISTRY) private readonly registry: Registry) {}
  onApplicationBootstrap(): void {
    if (cluster.isWorker) this.stop = answerCollections(this.registry);
    else registerWorkersReporting(this.registry, 1);
  }
  onApplicationShutdown(): void {
    this.stop?.();
  }
}

/** Metrics and readiness of a serving process (`kms serve` only). */
@Global()
@Module({
  imports: [AccountsModule, KeysModule, QuotasModule],
  providers: [{ provide: METRICS_REGISTRY, useFactory: processRegistry }, RequestMetrics, Readiness, CoreMetrics, ClusterCollection],
  controllers: [MetricsController],
  exports: [RequestMetrics, Readiness],
})
export class MetricsModule {}

import type { DynamicModule, Type } from '@nestjs/common';
import type { Face } from './faces/face';
import { HealthController } from './health.controller';
import { MetricsModule } from './metrics/metrics.module';

/** What a serving process adds to the core (AppModule.forRoot with HTTP): the faces, the metrics, the operator endpoints. */
export function httpParts(faces: readonly Face[]): { modules: Array<Type<unknown> | DynamicModule>; controllers: Type<unknown>[] } {
  return { modules: [MetricsModule, ...faces.map((f) => f.http().module)], controllers: [HealthController] };
}

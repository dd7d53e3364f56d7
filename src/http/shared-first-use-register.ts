import { Inject, Injectable, Module, OnApplicationShutdown } from '@nestjs/common';
import cluster from 'node:cluster';
import { KMS_CONFIG, KmsConfig } from '../config/config';
import { ClusterFirstUseRegister, FirstUseRegister, MemoryFirstUseRegister, RedisFirstUseRegister, Use, Verdict } from './first-use-register';

/**
 * The process's one first-use register of request signatures, which every face claims in
 * (each under keys of its own): the cluster primary's for the workers of an instance, Redis's
 * (KMS_REDIS_URL) across instances. One per process, as the workers' claims are matched to
 * the primary's replies by a counter of the register's.
 */
@Injectable()
export class SharedFirstUseRegister implements FirstUseRegister, OnApplicationShutdown {
  private readonly register: FirstUseRegister;

  constructor(@Inject(KMS_CONFIG) cfg: KmsConfig) {
    const instance = cluster.isWorker ? new ClusterFirstUseRegister() : new MemoryFirstUseRegister(cfg.signatureRegisterEntries);
    this.register = cfg.redisUrl ? new RedisFirstUseRegister(cfg.redisUrl, instance) : instance;
  }

  claim(use: Use): Promise<Verdict> {
    return this.register.claim(use);
  }

  onApplicationShutdown(): void {
    this.register.close?.();
  }
}

@Module({ providers: [SharedFirstUseRegister], exports: [SharedFirstUseRegister] })
export class FirstUseModule {}

import { DynamicModule, Global, Module } from '@nestjs/common';
import { AccountsModule } from './accounts/accounts.module';
import { TencentModule } from './api/tencent/tencent.module';
import { KMS_CONFIG, KmsConfig } from './config/config';
import { HealthController } from './health.controller';
import { HsmModule } from './hsm/hsm.module';
import { ImportModule } from './import/import.module';
import { JobsModule } from './jobs/jobs.module';
import { KeysModule } from './keys/keys.module';
import { PersistenceModule } from './persistence/persistence.module';
import { RotationModule } from './rotation/rotation.module';

@Global()
@Module({})
class ConfigModule {
  static of(cfg: KmsConfig): DynamicModule {
    return { module: ConfigModule, providers: [{ provide: KMS_CONFIG, useValue: cfg }], exports: [KMS_CONFIG] };
  }
}

/** The core without HTTP (for the CLI) or with the faces (for `kms serve`). */
@Module({})
export class AppModule {
  static forRoot(cfg: KmsConfig, withHttp: boolean): DynamicModule {
    return {
      module: AppModule,
      imports: [ConfigModule.of(cfg), PersistenceModule, JobsModule, HsmModule, AccountsModule, KeysModule, RotationModule, ImportModule, ...(withHttp ? [TencentModule] : [])],
      controllers: withHttp ? [HealthController] : [],
    };
  }
}

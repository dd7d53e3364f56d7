import { DynamicModule, Global, Module } from '@nestjs/common';
import { AuditModule } from './audit/audit.module';
import { AccountsModule } from './accounts/accounts.module';
import { POLICY_ACTIONS } from './accounts/policy';
import { ACTION_NAMES } from './api/tencent/actions/action-names';
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
    // Policies are in the Tencent face's language, so its actions are their vocabulary (also for the CLI, which has no face).
    const providers = [
      { provide: KMS_CONFIG, useValue: cfg },
      { provide: POLICY_ACTIONS, useValue: ACTION_NAMES },
    ];
    return { module: ConfigModule, providers, exports: [KMS_CONFIG, POLICY_ACTIONS] };
  }
}

/** The core without HTTP (for the CLI) or with the faces (for `kms serve`). */
@Module({})
export class AppModule {
  static forRoot(cfg: KmsConfig, withHttp: boolean): DynamicModule {
    return {
      module: AppModule,
      imports: [ConfigModule.of(cfg), PersistenceModule, JobsModule, HsmModule, AuditModule, AccountsModule, KeysModule, RotationModule, ImportModule, ...(withHttp ? [TencentModule] : [])],
      controllers: withHttp ? [HealthController] : [],
    };
  }
}

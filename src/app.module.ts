import { DynamicModule, Global, Module } from '@nestjs/common';
import { AuditModule } from './audit/audit.module';
import { AccountsModule } from './accounts/accounts.module';
import { FACES as REGISTERED_FACES } from './api/faces';
import { KMS_CONFIG, KmsConfig } from './config/config';
import { FACES, POLICY_LANGUAGE, policyLanguageOf } from './faces/face';
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
    // Stored policies are in one face's language, also for the CLI, which serves no face.
    const providers = [
      { provide: KMS_CONFIG, useValue: cfg },
      { provide: FACES, useValue: REGISTERED_FACES },
      { provide: POLICY_LANGUAGE, useValue: policyLanguageOf(REGISTERED_FACES) },
    ];
    return { module: ConfigModule, providers, exports: [KMS_CONFIG, FACES, POLICY_LANGUAGE] };
  }
}

/** The core without HTTP (for the CLI) or with the faces (for `kms serve`). */
@Module({})
export class AppModule {
  static forRoot(cfg: KmsConfig, withHttp: boolean): DynamicModule {
    // Required, not imported: only a serving process loads the HTTP parts (see Face.http).
    const http = withHttp ? (require('./http-parts') as typeof import('./http-parts')).httpParts(REGISTERED_FACES) : { modules: [], controllers: [] };
    return {
      module: AppModule,
      imports: [ConfigModule.of(cfg), PersistenceModule, JobsModule, HsmModule, AuditModule, AccountsModule, KeysModule, RotationModule, ImportModule, ...http.modules],
      controllers: http.controllers,
    };
  }
}

import { Module } from '@nestjs/common';
import { AccountsModule } from '../../accounts/accounts.module';
import { CryptoModule } from '../../crypto/crypto.module';
import { FaceHttp } from '../../faces/face';
import { FirstUseModule } from '../../http/shared-first-use-register';
import { KeysModule } from '../../keys/keys.module';
import { QuotasModule } from '../../quotas/quotas.module';
import { HuksAuthenticator } from './authenticator';
import { HuksFace } from './huks-face';

@Module({
  imports: [AccountsModule, KeysModule, CryptoModule, QuotasModule, FirstUseModule],
  providers: [HuksAuthenticator, HuksFace],
  exports: [HuksFace],
})
export class HuksModule {}

/** The face's request code (huks.face.ts loads it when serving). */
export const HUKS_HTTP: FaceHttp = { module: HuksModule, handler: HuksFace };

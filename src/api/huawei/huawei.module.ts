import { Module } from '@nestjs/common';
import { AccountsModule } from '../../accounts/accounts.module';
import { CryptoModule } from '../../crypto/crypto.module';
import { FaceHttp } from '../../faces/face';
import { FirstUseModule } from '../../http/shared-first-use-register';
import { ImportModule } from '../../import/import.module';
import { KeysModule } from '../../keys/keys.module';
import { QuotasModule } from '../../quotas/quotas.module';
import { HuaweiAuthenticator } from './authenticator';
import { HuaweiFace } from './huawei-face';

@Module({
  imports: [AccountsModule, KeysModule, CryptoModule, QuotasModule, ImportModule, FirstUseModule],
  providers: [HuaweiAuthenticator, HuaweiFace],
  exports: [HuaweiFace],
})
export class HuaweiModule {}

/** The face's request code (huawei.face.ts loads it when serving). */
export const HUAWEI_HTTP: FaceHttp = { module: HuaweiModule, handler: HuaweiFace };

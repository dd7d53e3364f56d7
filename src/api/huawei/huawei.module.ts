import { Module } from '@nestjs/common';
import { AccountsModule } from '../../accounts/accounts.module';
import { CryptoModule } from '../../crypto/crypto.module';
import { Face } from '../../faces/face';
import { ClusterFirstUseRegister } from '../../http/first-use-register';
import { FirstUseModule } from '../../http/shared-first-use-register';
import { ImportModule } from '../../import/import.module';
import { KeysModule } from '../../keys/keys.module';
import { QuotasModule } from '../../quotas/quotas.module';
import { HuaweiAuthenticator } from './authenticator';
import { HuaweiFace, URL_PREFIX } from './huawei-face';

@Module({
  imports: [AccountsModule, KeysModule, CryptoModule, QuotasModule, ImportModule, FirstUseModule],
  providers: [HuaweiAuthenticator, HuaweiFace],
  exports: [HuaweiFace],
})
export class HuaweiModule {}

/** The Huawei Cloud KMS REST API v1.0, under /v1.0/. It keeps no tables of its own. */
export const HUAWEI_FACE: Face = {
  name: 'huawei',
  prefix: URL_PREFIX,
  module: HuaweiModule,
  handler: HuaweiFace,
  // The signatures' first uses, for every worker (one register, shared with the other faces).
  servePrimary: (cfg) => ClusterFirstUseRegister.serve(cfg.signatureRegisterEntries),
};

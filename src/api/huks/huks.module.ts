import { Module } from '@nestjs/common';
import { AccountsModule } from '../../accounts/accounts.module';
import { CryptoModule } from '../../crypto/crypto.module';
import { Face } from '../../faces/face';
import { ClusterFirstUseRegister } from '../../http/first-use-register';
import { FirstUseModule } from '../../http/shared-first-use-register';
import { KeysModule } from '../../keys/keys.module';
import { QuotasModule } from '../../quotas/quotas.module';
import { HuksAuthenticator } from './authenticator';
import { HuksFace, URL_PREFIX } from './huks-face';
import { huksConfig } from './huks-config';
import { serveSessionsPrimary } from './session-router';

@Module({
  imports: [AccountsModule, KeysModule, CryptoModule, QuotasModule, FirstUseModule],
  providers: [HuksAuthenticator, HuksFace],
  exports: [HuksFace],
})
export class HuksModule {}

/** HUKS-style key sessions under /huks/v1/ (docs/huks-protocol.md). It keeps no tables of its own. */
export const HUKS_FACE: Face = {
  name: 'huks',
  prefix: URL_PREFIX,
  module: HuksModule,
  handler: HuksFace,
  servePrimary: (cfg) => {
    huksConfig(); // a bad setting stops the start, before any worker runs
    ClusterFirstUseRegister.serve(cfg.signatureRegisterEntries);
    serveSessionsPrimary();
  },
};

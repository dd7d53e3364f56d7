import { Module } from '@nestjs/common';
import { AccountsModule } from '../../accounts/accounts.module';
import { CryptoModule } from '../../crypto/crypto.module';
import { Face } from '../../faces/face';
import { ClusterFirstUseRegister } from '../../http/first-use-register';
import { FirstUseModule } from '../../http/shared-first-use-register';
import { ImportModule } from '../../import/import.module';
import { KeysModule } from '../../keys/keys.module';
import { QuotasModule } from '../../quotas/quotas.module';
import { RotationModule } from '../../rotation/rotation.module';
import { Authenticator } from './authenticator';
import { camPolicyLanguage } from './cam-policy';
import { NonceStore } from './nonce-store';
import { SignatureBinding } from './signature-binding';
import { TencentFace } from './tencent-face';
import { V1NonceEntity } from './v1-nonce.entity';

@Module({ imports: [AccountsModule, KeysModule, CryptoModule, QuotasModule, RotationModule, ImportModule, FirstUseModule], providers: [Authenticator, NonceStore, SignatureBinding, TencentFace], exports: [TencentFace] })
export class TencentModule {}

/**
 * The Tencent Cloud KMS Action API, the catch-all face on `/`. Its v1 nonce table is created by
 * the core's initial migration (1763900000000), which predates faces and keeps its name so
 * existing databases upgrade; the face registers only the entity.
 */
export const TENCENT_FACE: Face = {
  name: 'tencent',
  prefix: '/',
  module: TencentModule,
  handler: TencentFace,
  entities: [V1NonceEntity],
  migrations: [],
  policyLanguage: camPolicyLanguage,
  // The TC3 signatures' first uses, for every worker.
  servePrimary: (cfg) => ClusterFirstUseRegister.serve(cfg.signatureRegisterEntries),
};

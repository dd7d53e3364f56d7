import { Module } from '@nestjs/common';
import { AccountsModule } from '../../accounts/accounts.module';
import { CryptoModule } from '../../crypto/crypto.module';
import { FaceHttp } from '../../faces/face';
import { FirstUseModule } from '../../http/shared-first-use-register';
import { ImportModule } from '../../import/import.module';
import { KeysModule } from '../../keys/keys.module';
import { QuotasModule } from '../../quotas/quotas.module';
import { RotationModule } from '../../rotation/rotation.module';
import { Authenticator } from './authenticator';
import { NonceStore } from './nonce-store';
import { SignatureBinding } from './signature-binding';
import { TencentFace } from './tencent-face';

@Module({ imports: [AccountsModule, KeysModule, CryptoModule, QuotasModule, RotationModule, ImportModule, FirstUseModule], providers: [Authenticator, NonceStore, SignatureBinding, TencentFace], exports: [TencentFace] })
export class TencentModule {}

/** The face's request code (tencent.face.ts loads it when serving). */
export const TENCENT_HTTP: FaceHttp = { module: TencentModule, handler: TencentFace };

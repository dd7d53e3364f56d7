import { Module } from '@nestjs/common';
import { AccountsModule } from '../../accounts/accounts.module';
import { CryptoModule } from '../../crypto/crypto.module';
import { KeysModule } from '../../keys/keys.module';
import { QuotasModule } from '../../quotas/quotas.module';
import { Authenticator } from './authenticator';
import { NonceStore } from './nonce-store';
import { TencentFace } from './tencent-face';

@Module({ imports: [AccountsModule, KeysModule, CryptoModule, QuotasModule], providers: [Authenticator, NonceStore, TencentFace], exports: [TencentFace] })
export class TencentModule {}

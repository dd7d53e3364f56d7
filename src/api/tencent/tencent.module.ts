import { Module } from '@nestjs/common';
import { AccountsModule } from '../../accounts/accounts.module';
import { CryptoModule } from '../../crypto/crypto.module';
import { KeysModule } from '../../keys/keys.module';
import { Authenticator } from './authenticator';
import { NonceStore } from './nonce-store';
import { TencentController } from './tencent.controller';

@Module({ imports: [AccountsModule, KeysModule, CryptoModule], providers: [Authenticator, NonceStore], controllers: [TencentController] })
export class TencentModule {}

import { Module } from '@nestjs/common';
import { KeysModule } from '../keys/keys.module';
import { AsymmetricService } from './asymmetric.service';
import { CryptoService } from './crypto.service';
import { Sm2Service } from './sm2.service';

@Module({ imports: [KeysModule], providers: [CryptoService, AsymmetricService, Sm2Service], exports: [CryptoService, AsymmetricService, Sm2Service] })
export class CryptoModule {}

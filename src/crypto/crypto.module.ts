import { Module } from '@nestjs/common';
import { KeysModule } from '../keys/keys.module';
import { CryptoService } from './crypto.service';

@Module({ imports: [KeysModule], providers: [CryptoService], exports: [CryptoService] })
export class CryptoModule {}

import { Module } from '@nestjs/common';
import { AccountsService } from './accounts.service';
import { SecretSealer } from './secret-sealer';

@Module({ providers: [AccountsService, SecretSealer], exports: [AccountsService, SecretSealer] })
export class AccountsModule {}

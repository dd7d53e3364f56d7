import { Module } from '@nestjs/common';
import { AccountsService } from './accounts.service';
import { CredentialUsage } from './credential-usage';
import { SecretSealer } from './secret-sealer';

@Module({ providers: [AccountsService, CredentialUsage, SecretSealer], exports: [AccountsService, SecretSealer] })
export class AccountsModule {}

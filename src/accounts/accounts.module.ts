import { Module } from '@nestjs/common';
import { AccessTokenExpiryJob } from './access-token-expiry.job';
import { AccountsService } from './accounts.service';
import { CredentialUsage } from './credential-usage';
import { SecretSealer } from './secret-sealer';

@Module({ providers: [AccountsService, CredentialUsage, SecretSealer, AccessTokenExpiryJob], exports: [AccountsService, SecretSealer] })
export class AccountsModule {}

import { Module } from '@nestjs/common';
import { CmkQuotaService } from '../quotas/cmk-quota.service';
import { KeyCache } from './key-cache';
import { KeyRepository } from './key.repository';
import { KeysService } from './keys.service';

@Module({ providers: [KeyRepository, KeyCache, KeysService, CmkQuotaService], exports: [KeysService] })
export class KeysModule {}

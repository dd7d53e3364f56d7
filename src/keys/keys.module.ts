import { Module } from '@nestjs/common';
import { CmkQuotaService } from '../quotas/cmk-quota.service';
import { KeyCache } from './key-cache';
import { KeyDeletionJob } from './key-deletion.job';
import { KeyRepository } from './key.repository';
import { KeysService } from './keys.service';

@Module({ providers: [KeyRepository, KeyCache, KeysService, CmkQuotaService, KeyDeletionJob], exports: [KeysService] })
export class KeysModule {}

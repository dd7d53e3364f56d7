import { Module } from '@nestjs/common';
import { CmkQuotaService } from '../quotas/cmk-quota.service';
import { KeyCache } from './key-cache';
import { KeyDeletionJob } from './key-deletion.job';
import { KeyStreamsService } from './key-streams.service';
import { KeyTagRepository } from './key-tag.repository';
import { KeyTagsService } from './key-tags.service';
import { KeyRepository } from './key.repository';
import { KeysService } from './keys.service';
import { MaterialJournal } from './material-journal';
import { TokenReconcileJob } from './token-reconcile.job';
import { TokenReconciler } from './token-reconciler';

@Module({ providers: [KeyRepository, KeyTagRepository, KeyCache, KeysService, KeyTagsService, CmkQuotaService, KeyDeletionJob, KeyStreamsService, MaterialJournal, TokenReconciler, TokenReconcileJob], exports: [KeysService, KeyStreamsService, KeyTagsService, KeyRepository, KeyCache, MaterialJournal, TokenReconciler] })
export class KeysModule {}

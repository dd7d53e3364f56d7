import { Global, Module } from '@nestjs/common';
import { AuditReader } from './audit-reader';
import { AuditRetentionJob } from './audit-retention.job';
import { AuditSealer } from './audit-sealer';
import { AuditTrail } from './audit-trail';
import { AuditVerifier } from './audit-verifier';

/** The audit trail: recording (every face, the CLI, the jobs), verification, reading, retention. */
@Global()
@Module({ providers: [AuditSealer, AuditTrail, AuditVerifier, AuditReader, AuditRetentionJob], exports: [AuditSealer, AuditTrail, AuditVerifier, AuditReader] })
export class AuditModule {}

import { Module } from '@nestjs/common';
import { KeysModule } from '../keys/keys.module';
import { ImportParametersExpiryJob } from './import-parameters-expiry.job';
import { ImportRepository } from './import.repository';
import { ImportService } from './import.service';
import { MaterialExpiryJob } from './material-expiry.job';

@Module({ imports: [KeysModule], providers: [ImportRepository, ImportService, MaterialExpiryJob, ImportParametersExpiryJob], exports: [ImportService] })
export class ImportModule {}

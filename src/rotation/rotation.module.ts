import { Module } from '@nestjs/common';
import { KeysModule } from '../keys/keys.module';
import { RotationJob } from './rotation.job';
import { RotationRepository } from './rotation.repository';
import { RotationService } from './rotation.service';

@Module({ imports: [KeysModule], providers: [RotationRepository, RotationService, RotationJob], exports: [RotationService] })
export class RotationModule {}

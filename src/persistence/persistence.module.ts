import { Global, Inject, Module, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { Clock } from '../common/clock';
import { KMS_CONFIG, KmsConfig } from '../config/config';
import { FACES, Face } from '../faces/face';
import { ChangeFeed } from './change-feed';
import { openDatabase } from './data-source';

class PersistenceLifecycle implements OnApplicationBootstrap, OnApplicationShutdown {
  constructor(@Inject(DataSource) private readonly ds: DataSource, private readonly feed: ChangeFeed) {}
  async onApplicationBootstrap(): Promise<void> {
    await this.feed.start();
  }
  async onApplicationShutdown(): Promise<void> {
    await this.feed.stop();
    if (this.ds.isInitialized) await this.ds.destroy();
  }
}

/** The database (migrated by the caller beforehand), the change feed and the clock. */
@Global()
@Module({
  providers: [
    Clock,
    { provide: DataSource, inject: [KMS_CONFIG, FACES], useFactory: (cfg: KmsConfig, faces: readonly Face[]) => openDatabase(cfg, false, faces) },
    ChangeFeed,
    PersistenceLifecycle,
  ],
  exports: [Clock, DataSource, ChangeFeed],
})
export class PersistenceModule {}

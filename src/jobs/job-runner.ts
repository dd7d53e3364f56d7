import { Inject, Injectable, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import * as crypto from 'node:crypto';
import * as os from 'node:os';
import { DataSource } from 'typeorm';
import { Log } from '../common/logger';
import { KMS_CONFIG, KmsConfig } from '../config/config';
import { JobLeaseEntity } from './job-lease.entity';

/** A periodic task that must not run in two places at once. It must also be safe to run again after a crash. */
export interface Job {
  name: string;
  run(): Promise<void>;
}

/**
 * Runs registered jobs every KMS_JOB_INTERVAL_MS. Before each run a process takes the job's
 * lease row in the shared database (a conditional write: free, expired, or already its
 * own), so exactly one process of all instances runs a job at a time. Leases are measured
 * in real time, whatever the test clock says.
 */
@Injectable()
export class JobRunner implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly jobs: Job[] = [];
  /** Fits the 64-character column whatever the host name's length. */
  private readonly holder = `${os.hostname().slice(0, 40)}:${process.pid}:${crypto.randomBytes(4).toString('hex')}`;
  private timer: NodeJS.Timeout | null = null;
  private running = false;
  private started = false;
  /** Runs and failed runs by job name (the metrics read them). */
  readonly runs = new Map<string, number>();
  readonly failures = new Map<string, number>();

  constructor(@Inject(DataSource) private readonly ds: DataSource, @Inject(KMS_CONFIG) private readonly cfg: KmsConfig) {}

  register(job: Job): void {
    this.jobs.push(job);
  }

  /** Jobs run only in serving processes (`kms serve`), not in CLI commands. */
  enable(): void {
    this.started = true;
  }

  onApplicationBootstrap(): void {
    if (!this.started) return;
    this.timer = setInterval(() => void this.tick(), this.cfg.jobIntervalMs);
    this.timer.unref();
  }

  onApplicationShutdown(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  async tick(): Promise<void> {
    if (this.running || !this.ds.isInitialized) return;
    this.running = true;
    try {
      for (const job of this.jobs) {
        if (!(await this.lease(job.name))) continue;
        this.runs.set(job.name, (this.runs.get(job.name) ?? 0) + 1);
        try {
          await job.run();
        } catch (e) {
          this.failures.set(job.name, (this.failures.get(job.name) ?? 0) + 1);
          Log.error('job failed; it will run again', { job: job.name, error: (e as Error).message });
        }
      }
    } catch (e) {
      Log.warn('job lease failed', { error: (e as Error).message });
    } finally {
      this.running = false;
    }
  }

  /** A transaction of its own, so that the lease cannot be rolled back with another flow's work. */
  private lease(name: string): Promise<boolean> {
    return this.ds.transaction(async (m) => {
      const now = Date.now();
      const expiresAt = now + Math.max(5 * this.cfg.jobIntervalMs, 30_000);
      const taken = await m
        .createQueryBuilder()
        .update(JobLeaseEntity)
        .set({ holder: this.holder, expiresAt })
        .where('name = :name AND (expires_at < :now OR holder = :holder)', { name, now, holder: this.holder })
        .execute();
      if (taken.affected) return true;
      if (await m.existsBy(JobLeaseEntity, { name })) return false;
      await m.createQueryBuilder().insert().into(JobLeaseEntity).values({ name, holder: this.holder, expiresAt }).orIgnore().execute();
      return m.existsBy(JobLeaseEntity, { name, holder: this.holder });
    });
  }
}

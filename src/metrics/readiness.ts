import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { AuditTrail } from '../audit/audit-trail';
import { Token } from '../hsm/token';

/** A database that has not answered `SELECT 1` within this is counted down. */
const DATABASE_TIMEOUT_MS = 2000;

export type PartState = 'up' | 'down';
export interface ReadinessReport {
  ready: boolean;
  database: PartState;
  token: PartState;
  audit: PartState;
}

/**
 * What a process needs to serve: its database answering, its token logged in, and (with
 * KMS_AUDIT=required) its audit trail being written; the readiness probe and the metrics read it.
 */
@Injectable()
export class Readiness {
  constructor(
    @Inject(DataSource) private readonly ds: DataSource,
    @Inject(Token) private readonly token: Token,
    private readonly audit: AuditTrail,
  ) {}

  /** Ready when every part is up; an audit trail that cannot be written counts only in `required` mode (`best-effort` serves on). */
  async check(): Promise<ReadinessReport> {
    const database = await this.databaseUp();
    const token = this.token.available;
    const audit = this.audit.writable;
    const state = (up: boolean): PartState => (up ? 'up' : 'down');
    return { ready: database && token && (audit || !this.audit.required), database: state(database), token: state(token), audit: state(audit) };
  }

  async databaseUp(): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), DATABASE_TIMEOUT_MS)));
    try {
      return await Promise.race([this.ds.query('SELECT 1').then(() => true, () => false), late]);
    } finally {
      clearTimeout(timer);
    }
  }
}

import { Inject, Injectable } from '@nestjs/common';
import { Brackets, DataSource, SelectQueryBuilder } from 'typeorm';
import { AuditRecordEntity } from './audit-record.entity';

export interface AuditQuery {
  account?: string;
  keyId?: string;
  action?: string;
  /** Milliseconds since the epoch, inclusive. */
  since?: number;
  /** Milliseconds since the epoch, exclusive. */
  until?: number;
  limit?: number;
  /** Only records listed after this one, newest first: the next page of a listing. */
  before?: AuditPosition;
}

/** Where a record sits in the newest-first order: its time, writer and sequence number. */
export interface AuditPosition {
  at: number;
  writer: string;
  seq: number;
}

/** A record as `kms audit list` and `export` print it (one JSON object per line). */
export interface AuditLine {
  time: string;
  face: string;
  action: string;
  account: string | null;
  subUser: string | null;
  secretId: string | null;
  keys: Array<{ keyId: string; version?: number }>;
  requestId: string | null;
  source: string | null;
  clientCert: string | null;
  result: string;
  durationMs: number;
  writer: string;
  seq: number;
  hash: string;
}

export function toLine(r: AuditRecordEntity): AuditLine {
  const keys = (r.keys ?? '')
    .split(' ')
    .filter(Boolean)
    .map((k) => {
      const [keyId, v] = k.split('/v');
      return v === undefined ? { keyId } : { keyId, version: Number(v) };
    });
  return {
    time: new Date(r.at).toISOString(),
    face: r.face,
    action: r.action,
    account: r.account,
    subUser: r.subUser,
    secretId: r.secretId,
    keys,
    requestId: r.requestId,
    source: r.source,
    clientCert: r.clientCert,
    result: r.result,
    durationMs: r.durationMs,
    writer: r.writer,
    seq: r.seq,
    hash: r.hash,
  };
}

const EXPORT_PAGE = 1000;

/** Reads the trail: filtered newest first (list), or everything since a time, oldest first, page by page (export). */
@Injectable()
export class AuditReader {
  constructor(@Inject(DataSource) private readonly ds: DataSource) {}

  async list(q: AuditQuery): Promise<AuditLine[]> {
    const qb = this.ds.getRepository(AuditRecordEntity).createQueryBuilder('r');
    if (q.account) qb.andWhere('r.account = :account', { account: q.account });
    if (q.keyId) qb.andWhere('r.keys LIKE :key', { key: `%${q.keyId.replace(/[%_\\]/g, '')}%` });
    if (q.action) qb.andWhere('r.action = :action', { action: q.action });
    this.timeRange(qb, q);
    if (q.before) {
      const b = q.before;
      qb.andWhere(
        new Brackets((w) =>
          w
            .where('r.at < :bAt', { bAt: b.at })
            .orWhere('r.at = :bAt AND r.writer < :bWriter', { bWriter: b.writer })
            .orWhere('r.at = :bAt AND r.writer = :bWriter AND r.seq < :bSeq', { bSeq: b.seq }),
        ),
      );
    }
    const rows = await qb.orderBy('r.at', 'DESC').addOrderBy('r.writer', 'DESC').addOrderBy('r.seq', 'DESC').take(q.limit ?? 100).getMany();
    return rows.map(toLine);
  }

  /** Oldest first, in pages (keyset on at, writer, seq), so any size streams in bounded memory. */
  async *export(since: number): AsyncGenerator<AuditLine> {
    let after: AuditRecordEntity | null = null;
    for (;;) {
      const qb = this.ds.getRepository(AuditRecordEntity).createQueryBuilder('r').where('r.at >= :since', { since });
      if (after) {
        const a: AuditRecordEntity = after;
        qb.andWhere(
          new Brackets((w) =>
            w
              .where('r.at > :at', { at: a.at })
              .orWhere('r.at = :at AND r.writer > :writer', { writer: a.writer })
              .orWhere('r.at = :at AND r.writer = :writer AND r.seq > :seq', { seq: a.seq }),
          ),
        );
      }
      const rows = await qb.orderBy('r.at', 'ASC').addOrderBy('r.writer', 'ASC').addOrderBy('r.seq', 'ASC').take(EXPORT_PAGE).getMany();
      for (const r of rows) yield toLine(r);
      if (rows.length < EXPORT_PAGE) return;
      after = rows[rows.length - 1];
    }
  }

  private timeRange(qb: SelectQueryBuilder<AuditRecordEntity>, q: AuditQuery): void {
    if (q.since !== undefined) qb.andWhere('r.at >= :since', { since: q.since });
    if (q.until !== undefined) qb.andWhere('r.at < :until', { until: q.until });
  }
}

import { Inject, Injectable } from '@nestjs/common';
import { DataSource, MoreThan, Not, In } from 'typeorm';
import { AuditChainEntity } from './audit-chain.entity';
import { baseSealMessage, headSealMessage, recordHash } from './audit-event';
import { AuditRecordEntity } from './audit-record.entity';
import { AuditSealer } from './audit-sealer';

const PAGE = 5000;

export interface VerifySummary {
  ok: true;
  records: number;
  chains: number;
  /** Records after their chain's sealed head (written while the token was away): hash-checked only. */
  unsealed: number;
  first: string | null;
  last: string | null;
}

export interface VerifyFailure {
  ok: false;
  writer: string;
  seq: number;
  reason: string;
}

/**
 * Checks every chain: its start and head seals (MACs the token verifies), then every record
 * in order: no sequence number missing, each hash recomputed, and the chain reaching exactly
 * the sealed head. Edited, deleted, inserted or reordered records all break one of these.
 */
@Injectable()
export class AuditVerifier {
  constructor(@Inject(DataSource) private readonly ds: DataSource, private readonly sealer: AuditSealer) {}

  async verify(): Promise<VerifySummary | VerifyFailure> {
    const chains = await this.ds.getRepository(AuditChainEntity).find({ order: { startedAt: 'ASC', writer: 'ASC' } });
    const records = this.ds.getRepository(AuditRecordEntity);
    let count = 0;
    let unsealed = 0;
    let first = Infinity;
    let last = -Infinity;
    for (const c of chains) {
      const broken = (seq: number, reason: string): VerifyFailure => ({ ok: false, writer: c.writer, seq, reason });
      if (!(await this.sealer.verify(baseSealMessage(c.writer, c.baseSeq, c.baseHash), c.baseMac))) return broken(c.baseSeq + 1, 'the chain start seal does not verify (its start was moved or forged)');
      if (!(await this.sealer.verify(headSealMessage(c.writer, c.headSeq, c.headHash, c.headAt), c.headMac))) return broken(c.headSeq, 'the chain head seal does not verify (the head was changed or forged)');
      let prev = c.baseHash;
      let expect = c.baseSeq + 1;
      for (;;) {
        const page = await records.find({ where: { writer: c.writer, seq: MoreThan(expect - 1) }, order: { seq: 'ASC' }, take: PAGE });
        for (const r of page) {
          if (r.seq !== expect) return broken(expect, expect <= c.headSeq ? 'the record is missing (deleted or moved)' : 'the record after the sealed head is missing');
          const h = recordHash(prev, r);
          if (h !== r.hash) return broken(r.seq, 'the record does not match its hash (edited, or moved from elsewhere)');
          if (r.seq === c.headSeq && h !== c.headHash) return broken(r.seq, 'the chain does not lead to its sealed head (records were rewritten)');
          if (r.seq > c.headSeq) unsealed++;
          prev = h;
          expect++;
          count++;
          first = Math.min(first, r.at);
          last = Math.max(last, r.at);
        }
        if (page.length < PAGE) break;
      }
      if (expect - 1 < c.headSeq) return broken(expect, 'the record is missing (the chain ends before its sealed head)');
    }
    const writers = chains.map((c) => c.writer);
    const stray = await records.findOne({ where: writers.length ? { writer: Not(In(writers)) } : {}, order: { writer: 'ASC', seq: 'ASC' } });
    if (stray) return { ok: false, writer: stray.writer, seq: stray.seq, reason: 'the record belongs to no known chain' };
    const iso = (ms: number): string | null => (Number.isFinite(ms) ? new Date(ms).toISOString() : null);
    return { ok: true, records: count, chains: chains.length, unsealed, first: iso(first), last: iso(last) };
  }
}

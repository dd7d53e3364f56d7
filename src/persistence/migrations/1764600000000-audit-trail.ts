import { MigrationInterface, QueryRunner, Table, TableIndex } from 'typeorm';

const col = (name: string, type: string, extra: Record<string, unknown> = {}) => ({ name, type, isNullable: false, ...extra });
const opt = (name: string, type: string, extra: Record<string, unknown> = {}) => col(name, type, { isNullable: true, ...extra });

/** The audit trail: records (one hash chain per writer) and each chain's sealed start and head. */
export class AuditTrail1764600000000 implements MigrationInterface {
  name = 'AuditTrail1764600000000';

  async up(q: QueryRunner): Promise<void> {
    await q.createTable(
      new Table({
        name: 'audit_records',
        columns: [
          col('writer', 'varchar', { length: '36', isPrimary: true }),
          col('seq', 'bigint', { isPrimary: true }),
          col('at', 'bigint'),
          col('face', 'varchar', { length: '16' }),
          col('action', 'varchar', { length: '64' }),
          opt('account', 'varchar', { length: '20' }),
          opt('sub_user', 'varchar', { length: '20' }),
          opt('secret_id', 'varchar', { length: '64' }),
          opt('keys', 'text'),
          opt('request_id', 'varchar', { length: '64' }),
          opt('source', 'varchar', { length: '64' }),
          opt('client_cert', 'varchar', { length: '256' }),
          col('result', 'varchar', { length: '96' }),
          col('duration_ms', 'integer'),
          col('hash', 'varchar', { length: '64' }),
        ],
        indices: [new TableIndex({ name: 'idx_audit_records_at', columnNames: ['at'] }), new TableIndex({ name: 'idx_audit_records_account_at', columnNames: ['account', 'at'] })],
      }),
    );
    await q.createTable(
      new Table({
        name: 'audit_chains',
        columns: [
          col('writer', 'varchar', { length: '36', isPrimary: true }),
          col('started_at', 'bigint'),
          col('base_seq', 'bigint'),
          col('base_hash', 'varchar', { length: '64' }),
          col('base_mac', 'varchar', { length: '64' }),
          col('head_seq', 'bigint'),
          col('head_hash', 'varchar', { length: '64' }),
          col('head_at', 'bigint'),
          col('head_mac', 'varchar', { length: '64' }),
        ],
      }),
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropTable('audit_chains');
    await q.dropTable('audit_records');
  }
}

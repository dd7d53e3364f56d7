import { MigrationInterface, QueryRunner, Table, TableIndex } from 'typeorm';

const col = (name: string, type: string, extra: Record<string, unknown> = {}) => ({ name, type, isNullable: false, ...extra });

/** Accounts, credentials, CMKs with versions, the change feed and v1 nonces. Written with the
 * portable Table API so that one migration serves SQLite and PostgreSQL. */
export class Initial1763900000000 implements MigrationInterface {
  name = 'Initial1763900000000';

  async up(q: QueryRunner): Promise<void> {
    await q.createTable(
      new Table({
        name: 'accounts',
        columns: [col('uin', 'varchar', { length: '20', isPrimary: true }), col('name', 'varchar', { length: '64' }), col('created_at', 'bigint')],
      }),
    );
    await q.createTable(
      new Table({
        name: 'credentials',
        columns: [
          col('secret_id', 'varchar', { length: '64', isPrimary: true }),
          col('uin', 'varchar', { length: '20' }),
          col('sealed_secret', 'text'),
          col('status', 'varchar', { length: '16' }),
          col('created_at', 'bigint'),
        ],
        indices: [new TableIndex({ name: 'idx_credentials_uin', columnNames: ['uin'] })],
      }),
    );
    await q.createTable(
      new Table({
        name: 'cmks',
        columns: [
          col('key_id', 'varchar', { length: '36', isPrimary: true }),
          col('uin', 'varchar', { length: '20' }),
          col('creator_uin', 'varchar', { length: '20' }),
          col('region', 'varchar', { length: '64' }),
          col('alias', 'varchar', { length: '60' }),
          col('description', 'text'),
          col('key_state', 'varchar', { length: '24' }),
          col('key_usage', 'varchar', { length: '40' }),
          col('origin', 'varchar', { length: '16' }),
          col('type', 'integer'),
          col('owner', 'varchar', { length: '32' }),
          col('created_at', 'bigint'),
          col('deletion_date', 'bigint', { default: 0 }),
          col('valid_to', 'bigint', { default: 0 }),
          col('rotation_enabled', 'boolean', { default: false }),
          col('rotate_days', 'integer', { default: 0 }),
          col('next_rotate_time', 'bigint', { default: 0 }),
          col('last_rotate_time', 'bigint', { default: 0 }),
          col('tags', 'text', { default: "'[]'" }),
          col('current_version', 'integer', { default: 0 }),
          col('updated_at', 'bigint'),
        ],
        indices: [
          new TableIndex({ name: 'uq_cmks_alias', columnNames: ['uin', 'region', 'alias'], isUnique: true }),
          new TableIndex({ name: 'idx_cmks_owner', columnNames: ['uin', 'region', 'created_at'] }),
        ],
      }),
    );
    await q.createTable(
      new Table({
        name: 'cmk_versions',
        columns: [
          col('id', 'varchar', { length: '36', isPrimary: true }),
          col('key_id', 'varchar', { length: '36' }),
          col('version', 'integer'),
          col('wrapped', 'text', { isNullable: true }),
          col('created_at', 'bigint'),
        ],
        indices: [new TableIndex({ name: 'uq_cmk_versions', columnNames: ['key_id', 'version'], isUnique: true })],
      }),
    );
    await q.createTable(
      new Table({
        name: 'change_events',
        columns: [
          col('seq', 'integer', { isPrimary: true, isGenerated: true, generationStrategy: 'increment' }),
          col('kind', 'varchar', { length: '16' }),
          col('ref', 'varchar', { length: '64' }),
          col('at', 'bigint'),
        ],
      }),
    );
    await q.createTable(
      new Table({
        name: 'v1_nonces',
        columns: [col('secret_id', 'varchar', { length: '64', isPrimary: true }), col('nonce', 'varchar', { length: '32', isPrimary: true }), col('at', 'bigint')],
        indices: [new TableIndex({ name: 'idx_v1_nonces_at', columnNames: ['at'] })],
      }),
    );
  }

  async down(q: QueryRunner): Promise<void> {
    for (const t of ['v1_nonces', 'change_events', 'cmk_versions', 'cmks', 'credentials', 'accounts']) await q.dropTable(t);
  }
}

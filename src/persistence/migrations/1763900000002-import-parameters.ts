import { MigrationInterface, QueryRunner, Table, TableColumn } from 'typeorm';

const col = (name: string, type: string, extra: Record<string, unknown> = {}) => ({ name, type, isNullable: false, ...extra });

/** BYOK: import parameters, and the token-computed check value of imported material. */
export class ImportParameters1763900000002 implements MigrationInterface {
  name = 'ImportParameters1763900000002';

  async up(q: QueryRunner): Promise<void> {
    await q.addColumn('cmks', new TableColumn({ name: 'material_check', type: 'varchar', length: '128', isNullable: true }));
    await q.createTable(
      new Table({
        name: 'import_parameters',
        columns: [
          col('key_id', 'varchar', { length: '36', isPrimary: true }),
          col('token_hash', 'varchar', { length: '64' }),
          col('wrapping_algorithm', 'varchar', { length: '32' }),
          col('wrapping_key_spec', 'varchar', { length: '16' }),
          col('wrapping_key_id', 'varchar', { length: '64' }),
          col('public_key', 'text'),
          col('created_at', 'bigint'),
          col('expires_at', 'bigint'),
        ],
      }),
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropTable('import_parameters');
    await q.dropColumn('cmks', 'material_check');
  }
}

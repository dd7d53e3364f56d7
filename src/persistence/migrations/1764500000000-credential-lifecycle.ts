import { MigrationInterface, QueryRunner, TableColumn } from 'typeorm';

/** Accounts can be disabled; credentials remember when they were last used. */
export class CredentialLifecycle1764500000000 implements MigrationInterface {
  name = 'CredentialLifecycle1764500000000';

  async up(q: QueryRunner): Promise<void> {
    await q.addColumn('accounts', new TableColumn({ name: 'status', type: 'varchar', length: '16', isNullable: false, default: "'Active'" }));
    await q.addColumn('credentials', new TableColumn({ name: 'last_used_at', type: 'bigint', isNullable: true }));
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropColumn('credentials', 'last_used_at');
    await q.dropColumn('accounts', 'status');
  }
}

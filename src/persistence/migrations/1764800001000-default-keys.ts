import { MigrationInterface, QueryRunner, TableColumn } from 'typeorm';

/** Default keys: made by the operator for a service, never modified or deleted. Existing keys are not. */
export class DefaultKeys1764800001000 implements MigrationInterface {
  name = 'DefaultKeys1764800001000';

  async up(q: QueryRunner): Promise<void> {
    await q.addColumn('cmks', new TableColumn({ name: 'is_default', type: 'boolean', isNullable: false, default: false }));
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropColumn('cmks', 'is_default');
  }
}

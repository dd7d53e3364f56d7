import { MigrationInterface, QueryRunner, TableColumn } from 'typeorm';

/** BYOK: how many ImportKeyMaterial attempts each ImportToken has had (at most 5 failures). */
export class ImportAttempts1764500002000 implements MigrationInterface {
  name = 'ImportAttempts1764500002000';

  async up(q: QueryRunner): Promise<void> {
    await q.addColumn('import_parameters', new TableColumn({ name: 'attempts', type: 'integer', isNullable: false, default: 0 }));
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropColumn('import_parameters', 'attempts');
  }
}

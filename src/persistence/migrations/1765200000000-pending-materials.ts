import { MigrationInterface, QueryRunner, Table } from 'typeorm';

/** Token objects in flight (see PendingMaterialEntity), for the token reconciler. */
export class PendingMaterials1765200000000 implements MigrationInterface {
  name = 'PendingMaterials1765200000000';

  async up(q: QueryRunner): Promise<void> {
    await q.createTable(
      new Table({
        name: 'pending_materials',
        columns: [
          { name: 'id', type: 'varchar', length: '64', isPrimary: true },
          { name: 'started_at', type: 'bigint', isNullable: false },
        ],
      }),
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropTable('pending_materials');
  }
}

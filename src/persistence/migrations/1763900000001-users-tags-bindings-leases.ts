import { MigrationInterface, QueryRunner, Table, TableColumn, TableIndex } from 'typeorm';

const col = (name: string, type: string, extra: Record<string, unknown> = {}) => ({ name, type, isNullable: false, ...extra });

/** Sub-users with policies, tags in a table of their own, cloud-resource bindings, job leases. */
export class UsersTagsBindingsLeases1763900000001 implements MigrationInterface {
  name = 'UsersTagsBindingsLeases1763900000001';

  async up(q: QueryRunner): Promise<void> {
    await q.createTable(
      new Table({
        name: 'users',
        columns: [col('sub_uin', 'varchar', { length: '20', isPrimary: true }), col('uin', 'varchar', { length: '20' }), col('name', 'varchar', { length: '64' }), col('policy', 'text'), col('created_at', 'bigint')],
        indices: [new TableIndex({ name: 'idx_users_uin', columnNames: ['uin'] })],
      }),
    );
    await q.addColumn('credentials', new TableColumn({ name: 'sub_uin', type: 'varchar', length: '20', isNullable: true }));
    await q.createTable(
      new Table({
        name: 'cmk_tags',
        columns: [col('key_id', 'varchar', { length: '36', isPrimary: true }), col('tag_key', 'varchar', { length: '127', isPrimary: true }), col('tag_value', 'varchar', { length: '255' })],
        indices: [new TableIndex({ name: 'idx_cmk_tags_tag', columnNames: ['tag_key', 'tag_value'] })],
      }),
    );
    // Tags move from a JSON column to rows.
    const rows: Array<{ key_id: string; tags: string }> = await q.query('SELECT key_id, tags FROM cmks');
    for (const r of rows) {
      for (const t of JSON.parse(r.tags) as Array<{ TagKey: string; TagValue: string }>) {
        await q.manager.createQueryBuilder().insert().into('cmk_tags').values({ key_id: r.key_id, tag_key: t.TagKey, tag_value: t.TagValue }).execute();
      }
    }
    await q.dropColumn('cmks', 'tags');
    await q.createTable(
      new Table({
        name: 'cmk_bindings',
        columns: [
          col('key_id', 'varchar', { length: '36', isPrimary: true }),
          col('product_id', 'varchar', { length: '64', isPrimary: true }),
          col('resource_id', 'varchar', { length: '255', isPrimary: true }),
          col('created_at', 'bigint'),
        ],
      }),
    );
    await q.createTable(new Table({ name: 'job_leases', columns: [col('name', 'varchar', { length: '64', isPrimary: true }), col('holder', 'varchar', { length: '64' }), col('expires_at', 'bigint')] }));
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropTable('job_leases');
    await q.dropTable('cmk_bindings');
    await q.addColumn('cmks', new TableColumn({ name: 'tags', type: 'text', default: "'[]'" }));
    await q.dropTable('cmk_tags');
    await q.dropColumn('credentials', 'sub_uin');
    await q.dropTable('users');
  }
}

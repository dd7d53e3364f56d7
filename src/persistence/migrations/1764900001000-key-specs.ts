import { MigrationInterface, QueryRunner, TableColumn } from 'typeorm';

/** The material a key holds (AES of a size, or HMAC); every existing key is AES-256. */
export class KeySpecs1764900001000 implements MigrationInterface {
  name = 'KeySpecs1764900001000';

  async up(q: QueryRunner): Promise<void> {
    await q.addColumn('cmks', new TableColumn({ name: 'key_spec', type: 'varchar', length: '16', isNullable: false, default: "'AES_256'" }));
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropColumn('cmks', 'key_spec');
  }
}

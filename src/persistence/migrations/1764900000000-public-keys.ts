import { MigrationInterface, QueryRunner, TableColumn } from 'typeorm';

/** Asymmetric CMKs: each version keeps its public key (the private key stays in the token). */
export class PublicKeys1764900000000 implements MigrationInterface {
  name = 'PublicKeys1764900000000';

  async up(q: QueryRunner): Promise<void> {
    await q.addColumn('cmk_versions', new TableColumn({ name: 'public_key', type: 'text', isNullable: true }));
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropColumn('cmk_versions', 'public_key');
  }
}

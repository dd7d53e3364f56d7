import { MigrationInterface, QueryRunner, TableColumn } from 'typeorm';

/**
 * A credential is an API key pair or an access token. A token keeps only its secret's digest
 * (in sealed_secret) and lapses at expires_at; existing rows are key pairs that never expire.
 */
export class AccessTokens1764800000000 implements MigrationInterface {
  name = 'AccessTokens1764800000000';

  async up(q: QueryRunner): Promise<void> {
    await q.addColumn('credentials', new TableColumn({ name: 'kind', type: 'varchar', length: '16', isNullable: false, default: "'key'" }));
    await q.addColumn('credentials', new TableColumn({ name: 'expires_at', type: 'bigint', isNullable: true }));
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropColumn('credentials', 'expires_at');
    await q.dropColumn('credentials', 'kind');
  }
}

import { MigrationInterface, QueryRunner } from 'typeorm';

/** Pending import parameters name their wrapping algorithm in the core's words, not an API's. */
const RENAMES: ReadonlyArray<[string, string]> = [
  ['RSAES_PKCS1_V1_5', 'rsa-pkcs1-v1_5'],
  ['RSAES_OAEP_SHA_1', 'rsa-oaep-sha1'],
  ['RSAES_OAEP_SHA_256', 'rsa-oaep-sha256'],
];

export class WrappingAlgorithmNames1764700000000 implements MigrationInterface {
  name = 'WrappingAlgorithmNames1764700000000';

  async up(q: QueryRunner): Promise<void> {
    for (const [from, to] of RENAMES) await rename(q, from, to);
  }

  async down(q: QueryRunner): Promise<void> {
    for (const [from, to] of RENAMES) await rename(q, to, from);
  }
}

function rename(q: QueryRunner, from: string, to: string): Promise<unknown> {
  const [a, b] = q.connection.options.type === 'postgres' ? ['$1', '$2'] : ['?', '?'];
  return q.query(`UPDATE import_parameters SET wrapping_algorithm = ${a} WHERE wrapping_algorithm = ${b}`, [to, from]);
}

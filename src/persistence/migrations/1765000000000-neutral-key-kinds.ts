import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Keys name their usage, spec and origin in the core's words, not an API's (each face maps
 * its own names), and a key pair's spec is its pair's: before, pairs kept the AES_256 default.
 * The import wrapping key's spec too. Every value is renamed back on a downgrade.
 */
const USAGES: ReadonlyArray<[string, string]> = [
  ['ENCRYPT_DECRYPT', 'aes:encrypt-decrypt'],
  ['GENERATE_VERIFY_MAC', 'hmac:mac'],
  ['ASYMMETRIC_DECRYPT_RSA_2048', 'rsa-2048:decrypt'],
  ['ASYMMETRIC_SIGN_VERIFY_RSA_2048', 'rsa-2048:sign'],
  ['ASYMMETRIC_SIGN_VERIFY_ECC', 'ec-p256:sign'],
  ['ASYMMETRIC_DECRYPT_SM2', 'sm2:decrypt'],
  ['ASYMMETRIC_SIGN_VERIFY_SM2', 'sm2:sign'],
];
const SPECS: ReadonlyArray<[string, string]> = [
  ['AES_128', 'aes-128'],
  ['AES_192', 'aes-192'],
  ['AES_256', 'aes-256'],
  ['HMAC_256', 'hmac-256'],
];
const ORIGINS: ReadonlyArray<[string, string]> = [
  ['KMS', 'generated'],
  ['EXTERNAL', 'imported'],
];
/** Key pairs' specs, by the usages (new names) that make them. */
const PAIR_SPECS: ReadonlyArray<[string, string[]]> = [
  ['rsa-2048', ['rsa-2048:decrypt', 'rsa-2048:sign']],
  ['ec-p256', ['ec-p256:sign']],
  ['sm2', ['sm2:decrypt', 'sm2:sign']],
];
const WRAPPING_KEY_SPECS: ReadonlyArray<[string, string]> = [['RSA_2048', 'rsa-2048']];

export class NeutralKeyKinds1765000000000 implements MigrationInterface {
  name = 'NeutralKeyKinds1765000000000';

  async up(q: QueryRunner): Promise<void> {
    for (const [from, to] of USAGES) await rename(q, 'cmks', 'key_usage', from, to);
    for (const [from, to] of SPECS) await rename(q, 'cmks', 'key_spec', from, to);
    for (const [spec, usages] of PAIR_SPECS) for (const usage of usages) await setSpec(q, usage, spec);
    for (const [from, to] of ORIGINS) await rename(q, 'cmks', 'origin', from, to);
    for (const [from, to] of WRAPPING_KEY_SPECS) await rename(q, 'import_parameters', 'wrapping_key_spec', from, to);
    await specDefault(q, 'aes-256');
  }

  async down(q: QueryRunner): Promise<void> {
    await specDefault(q, 'AES_256');
    for (const [to, from] of WRAPPING_KEY_SPECS) await rename(q, 'import_parameters', 'wrapping_key_spec', from, to);
    for (const [to, from] of ORIGINS) await rename(q, 'cmks', 'origin', from, to);
    for (const [, usages] of PAIR_SPECS) for (const usage of usages) await setSpec(q, usage, 'aes-256');
    for (const [to, from] of SPECS) await rename(q, 'cmks', 'key_spec', from, to);
    for (const [to, from] of USAGES) await rename(q, 'cmks', 'key_usage', from, to);
  }
}

const params = (q: QueryRunner): [string, string] => (q.connection.options.type === 'postgres' ? ['$1', '$2'] : ['?', '?']);

function rename(q: QueryRunner, table: string, column: string, from: string, to: string): Promise<unknown> {
  const [a, b] = params(q);
  return q.query(`UPDATE ${table} SET ${column} = ${a} WHERE ${column} = ${b}`, [to, from]);
}

function setSpec(q: QueryRunner, usage: string, spec: string): Promise<unknown> {
  const [a, b] = params(q);
  return q.query(`UPDATE cmks SET key_spec = ${a} WHERE key_usage = ${b}`, [spec, usage]);
}

/** The column's default, for rows written without a spec (the service always writes one). */
async function specDefault(q: QueryRunner, spec: string): Promise<void> {
  const table = await q.getTable('cmks');
  const column = table?.findColumnByName('key_spec');
  if (!table || !column) throw new Error('cmks.key_spec is missing');
  const changed = column.clone();
  changed.default = `'${spec}'`;
  await q.changeColumn(table, column, changed);
}

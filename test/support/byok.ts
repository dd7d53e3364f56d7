import { execFileSync } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';

/** The `openssl pkeyutl` options of each wrapping algorithm, as the import guide gives them. */
const PKEYOPT: Record<string, string[]> = {
  RSAES_OAEP_SHA_1: ['-pkeyopt', 'rsa_padding_mode:oaep', '-pkeyopt', 'rsa_oaep_md:sha1'],
  RSAES_PKCS1_V1_5: ['-pkeyopt', 'rsa_padding_mode:pkcs1'],
  RSAES_OAEP_SHA_256: ['-pkeyopt', 'rsa_padding_mode:oaep', '-pkeyopt', 'rsa_oaep_md:sha256'],
};

const openssl = (dir: string, ...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });

/** Step 2 of the guide: `openssl rand -out raw_material.bin N`, in a folder of its own. */
export function newMaterial(parent: string, bytes: number): { dir: string; material: Buffer } {
  const dir = fs.mkdtempSync(path.join(parent, 'material-'));
  openssl(dir, 'rand', '-out', 'raw_material.bin', String(bytes));
  return { dir, material: fs.readFileSync(path.join(dir, 'raw_material.bin')) };
}

/** Steps 3-5 of the guide: decode PublicKey, encrypt raw_material.bin with it, base64 the result (EncryptedKeyMaterial). */
export function wrapMaterial(dir: string, publicKey: string, algorithm: string): string {
  fs.writeFileSync(path.join(dir, 'public_key.base64'), publicKey);
  openssl(dir, 'enc', '-d', '-base64', '-A', '-in', 'public_key.base64', '-out', 'public_key.bin');
  openssl(dir, 'pkeyutl', '-in', 'raw_material.bin', '-out', 'encrypted_key_material.bin', '-inkey', 'public_key.bin', '-keyform', 'DER', '-pubin', '-encrypt', ...PKEYOPT[algorithm]);
  openssl(dir, 'enc', '-e', '-base64', '-A', '-in', 'encrypted_key_material.bin', '-out', 'encrypted_material.base64');
  return fs.readFileSync(path.join(dir, 'encrypted_material.base64'), 'utf8');
}

/** Opens a CiphertextBlob (docs/ciphertext-format.md) on the host with the raw material: what a BYOK owner can always do. */
export function openBlob(blob: string, material: Buffer): Buffer {
  const b = Buffer.from(blob, 'base64');
  const d = crypto.createDecipheriv(material.length === 16 ? 'aes-128-gcm' : 'aes-256-gcm', material, b.subarray(23, 35));
  d.setAAD(b.subarray(0, 23));
  d.setAuthTag(b.subarray(b.length - 16));
  return Buffer.concat([d.update(b.subarray(35, b.length - 16)), d.final()]);
}

const SOFTHSM = ['/usr/lib/softhsm/libsofthsm2.so', '/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so'].find((p) => fs.existsSync(p))!;

/** pkcs11-tool on a service's embedded SoftHSM token, logged in as the service is. */
function pkcs11Tool(dataDir: string, ...args: string[]): string {
  const dir = path.join(dataDir, 'softhsm');
  const pin = fs.readFileSync(path.join(dir, 'user.pin'), 'utf8').trim();
  return execFileSync('pkcs11-tool', ['--module', SOFTHSM, '--token-label', 'kms', '--login', '--pin', pin, ...args], {
    env: { ...process.env, SOFTHSM2_CONF: path.join(dir, 'softhsm2.conf') },
    stdio: ['ignore', 'pipe', 'ignore'],
  }).toString();
}

export interface PrivateKeyObject {
  label: string;
  /** CKA_ID as text. */
  id: string;
  usage: string;
  access: string;
}

/** The private-key objects on the token, as `pkcs11-tool --list-objects` shows them. */
export function privateKeys(dataDir: string): PrivateKeyObject[] {
  return pkcs11Tool(dataDir, '--list-objects', '--type', 'privkey')
    .split(/^Private Key Object/m)
    .slice(1)
    .map((block) => {
      const field = (name: string) => new RegExp(`^\\s*${name}:\\s*(.*)$`, 'm').exec(block)?.[1].trim() ?? '';
      return { label: field('label'), id: Buffer.from(field('ID'), 'hex').toString(), usage: field('Usage'), access: field('Access') };
    });
}

/** Deletes a private-key object behind the service's back. */
export function deletePrivateKey(dataDir: string, id: string): void {
  pkcs11Tool(dataDir, '--delete-object', '--type', 'privkey', '--id', Buffer.from(id).toString('hex'));
}

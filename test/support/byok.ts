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

import * as fs from 'node:fs';
import * as path from 'node:path';

/**
 * The core (everything under src/ outside src/api/) speaks its own language: a vendor's name,
 * resource strings, headers, signature names or error codes belong to that vendor's face.
 */

const ROOT = path.resolve(__dirname, '..', '..');
const SRC = path.join(ROOT, 'src');
const FACES = path.join(SRC, 'api');
/** Clients of a face (they speak its protocol over HTTP and import no server code). */
const CLIENTS = [path.join(SRC, 'sdk')];
const MIGRATIONS = path.join(SRC, 'persistence', 'migrations');

/**
 * What names a vendor. Header and signature names are matched in any case, as HTTP and code
 * spell them. `stored`: a name the core once stored, which the migrations that rename it say.
 */
const VENDOR_WORDS: ReadonlyArray<{ what: string; re: RegExp; stored?: boolean }> = [
  { what: 'qcs::', re: /qcs::/i },
  { what: 'name/kms:', re: /name\/kms:/i },
  { what: 'Tencent', re: /tencent/i },
  { what: 'Huawei', re: /huawei/i },
  { what: 'X-TC-', re: /x-tc-/i },
  { what: 'TC3', re: /(?<![a-z0-9])tc3/i },
  { what: 'KMS.dddd', re: /kms\.\d{4}/i },
  { what: 'X-Sdk-Date', re: /x-sdk-date/i },
  { what: 'a Tencent KeyUsage', re: /ENCRYPT_DECRYPT|GENERATE_VERIFY_MAC|ASYMMETRIC_(DECRYPT|SIGN_VERIFY)_/, stored: true },
  { what: 'a Tencent signing algorithm', re: /ECC_P256|SM2DSA|RSA_PSS_SHA_256|RSA_PKCS1_SHA_256/ },
];

/** `file:line: word (the line)` for each vendor word in the text (`migration`: a file that may say stored names). */
function vendorWords(file: string, text: string, migration = false): string[] {
  const found: string[] = [];
  text.split('\n').forEach((line, i) => {
    for (const w of VENDOR_WORDS) if (w.re.test(line) && !(migration && w.stored)) found.push(`${file}:${i + 1}: ${w.what} (${line.trim().slice(0, 120)})`);
  });
  return found;
}

function coreFiles(dir: string): string[] {
  const out: string[] = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) {
      if (p !== FACES && !CLIENTS.includes(p)) out.push(...coreFiles(p));
    } else out.push(p);
  }
  return out;
}

describe('the core names no vendor', () => {
  it('finds each vendor word, in any case, and not its look-alikes', () => {
    const hits = (s: string) => vendorWords('x.ts', s).length;
    for (const s of ['qcs::kms:ap-guangzhou', 'name/kms:Encrypt', 'TencentFace', 'the huawei face', "headers['x-tc-action']", 'TC3-HMAC-SHA256', 'tc3_request', 'KMS.0211', "'x-sdk-date'"]) expect(hits(s)).toBe(1);
    for (const s of ['KMS_WORKERS', 'kms.service', 'KMS.', 'utc30', 'name/kms', 'RSA_2048']) expect(hits(s)).toBe(0);
  });

  it('finds the Tencent key usages and signing algorithms, but lets migrations name the usages the core stored before', () => {
    const hits = (s: string, migration = false) => vendorWords('x.ts', s, migration).length;
    for (const s of ['ENCRYPT_DECRYPT', 'GENERATE_VERIFY_MAC', 'ASYMMETRIC_DECRYPT_RSA_2048', 'ASYMMETRIC_SIGN_VERIFY_ECC', 'ECC_P256_R1', 'SM2DSA_RAW', 'RSA_PSS_SHA_256']) expect(hits(s)).toBe(1);
    for (const s of ['aes:encrypt-decrypt', 'rsa-2048:sign', 'ec-p256', 'ecdsa-sha256']) expect(hits(s)).toBe(0);
    expect(hits("['ASYMMETRIC_SIGN_VERIFY_ECC', 'ec-p256:sign']", true)).toBe(0);
    expect(hits('ECC_P256_R1', true)).toBe(1);
  });

  it('in any file under src/ outside src/api/', () => {
    const files = coreFiles(SRC);
    expect(files.length).toBeGreaterThan(20);
    const offenders = files.flatMap((f) => vendorWords(path.relative(ROOT, f), fs.readFileSync(f, 'utf8'), f.startsWith(MIGRATIONS + path.sep)));
    // One line per offence, so a failure names every file and line to fix.
    expect(offenders.join('\n')).toBe('');
  });

  it('the clients import nothing of the server: only themselves, Node and packages', () => {
    for (const dir of CLIENTS) {
      for (const f of fs.readdirSync(dir).filter((n) => n.endsWith('.ts'))) {
        const imports = [...fs.readFileSync(path.join(dir, f), 'utf8').matchAll(/from '([^']+)'/g)].map((m) => m[1]);
        expect(imports.filter((i) => i.startsWith('.') && !i.startsWith('./'))).toEqual([]);
      }
    }
  });
});

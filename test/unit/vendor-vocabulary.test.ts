import * as fs from 'node:fs';
import * as path from 'node:path';

/**
 * The core (everything under src/ outside src/api/) speaks its own language: a vendor's name,
 * resource strings, headers, signature names or error codes belong to that vendor's face.
 */

const ROOT = path.resolve(__dirname, '..', '..');
const SRC = path.join(ROOT, 'src');
const FACES = path.join(SRC, 'api');

/** What names a vendor. Header and signature names are matched in any case, as HTTP and code spell them. */
const VENDOR_WORDS: ReadonlyArray<{ what: string; re: RegExp }> = [
  { what: 'qcs::', re: /qcs::/i },
  { what: 'name/kms:', re: /name\/kms:/i },
  { what: 'Tencent', re: /tencent/i },
  { what: 'Huawei', re: /huawei/i },
  { what: 'X-TC-', re: /x-tc-/i },
  { what: 'TC3', re: /(?<![a-z0-9])tc3/i },
  { what: 'KMS.dddd', re: /kms\.\d{4}/i },
  { what: 'X-Sdk-Date', re: /x-sdk-date/i },
];

/** `file:line: word (the line)` for each vendor word in the text. */
function vendorWords(file: string, text: string): string[] {
  const found: string[] = [];
  text.split('\n').forEach((line, i) => {
    for (const w of VENDOR_WORDS) if (w.re.test(line)) found.push(`${file}:${i + 1}: ${w.what} (${line.trim().slice(0, 120)})`);
  });
  return found;
}

function coreFiles(dir: string): string[] {
  const out: string[] = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) {
      if (p !== FACES) out.push(...coreFiles(p));
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

  it('in any file under src/ outside src/api/', () => {
    const files = coreFiles(SRC);
    expect(files.length).toBeGreaterThan(20);
    const offenders = files.flatMap((f) => vendorWords(path.relative(ROOT, f), fs.readFileSync(f, 'utf8')));
    // One line per offence, so a failure names every file and line to fix.
    expect(offenders.join('\n')).toBe('');
  });
});

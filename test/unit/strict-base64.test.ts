import fc from 'fast-check';
import { STRICT_BASE64, decodeStrictBase64 } from '../../src/common/base64';

/** What the regular expression accepts, decoded, or null: the rule decodeStrictBase64 must keep. */
const byPattern = (s: string): Buffer | null => (STRICT_BASE64.test(s) ? Buffer.from(s, 'base64') : null);

describe('decodeStrictBase64', () => {
  it('decodes every standard base64 text to its bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        expect(decodeStrictBase64(Buffer.from(bytes).toString('base64'))).toEqual(Buffer.from(bytes));
      }),
      { numRuns: 2000 },
    );
  });

  it('accepts and refuses exactly what the strict pattern does', () => {
    // Mostly the alphabet, with what Node's decoder skips or reads leniently mixed in.
    const char = fc.oneof(
      { weight: 12, arbitrary: fc.constantFrom(...'ABCXYZabcxyz0189+/') },
      { weight: 3, arbitrary: fc.constantFrom('=', '-', '_', ' ', '\n', '!', '.', '%', '\u00e9', '\u0000', '\ud83d\ude00') },
    );
    const text = fc.oneof(
      fc.array(char, { maxLength: 24 }).map((cs) => cs.join('')),
      // A valid text with one character changed, added or removed.
      fc.tuple(fc.uint8Array({ minLength: 1, maxLength: 40 }), fc.nat(), char, fc.constantFrom('replace', 'insert', 'delete')).map(([bytes, at, c, how]) => {
        const s = Buffer.from(bytes).toString('base64');
        const i = at % s.length;
        if (how === 'replace') return s.slice(0, i) + c + s.slice(i + 1);
        if (how === 'insert') return s.slice(0, i) + c + s.slice(i);
        return s.slice(0, i) + s.slice(i + 1);
      }),
    );
    fc.assert(
      fc.property(text, (s) => {
        expect(decodeStrictBase64(s)).toEqual(byPattern(s));
      }),
      { numRuns: 20000 },
    );
  });

  it.each(['', 'QQ==', 'QR==', 'QUI=', 'QUJD'])('accepts %j as the pattern does', (s) => {
    expect(decodeStrictBase64(s)).toEqual(Buffer.from(s, 'base64'));
  });

  it.each(['Q', 'QQ=', 'Q===', '====', 'QQ==QQ==', 'QUJD-A==', 'QUJD_A==', 'QU JD', 'QUJD\n', '=QUJ', 'QU=J'])('refuses %j', (s) => {
    expect(decodeStrictBase64(s)).toBeNull();
  });
});

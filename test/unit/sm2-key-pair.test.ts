import { execFileSync } from 'node:child_process';
import { SM2_SEED_BYTES, sm2KeyPair } from '../../src/crypto/sm2-key-pair';

/** The scalar's reduction at its edges, checked by OpenSSL (`pkey -check`: d in range, public key = d*G). */

const check = (pem: Buffer) => execFileSync('openssl', ['pkey', '-check', '-noout', '-text'], { input: pem }).toString();

const N = BigInt('0xFFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFF7203DF6B21C6052B53BBF40939D54123');
const privateScalar = (text: string) => BigInt('0x' + text.split('priv:')[1].split('pub:')[0].replace(/[\s:]/g, ''));

it.each([
  ['all zero bytes', 0x00, 1n],
  ['all one bits, the largest input', 0xff, ((1n << BigInt(SM2_SEED_BYTES * 8)) - 1n) % (N - 2n) + 1n],
])('makes a valid key from %s, d = seed mod (n - 2) + 1', (_what, byte, d) => {
  const seed = Buffer.alloc(SM2_SEED_BYTES, byte);
  const pair = sm2KeyPair(seed);
  const text = check(pair.privatePem);
  expect(text).toMatch(/Key is valid/);
  expect(privateScalar(text)).toBe(d);
  expect(execFileSync('openssl', ['pkey', '-pubout'], { input: pair.privatePem }).toString()).toBe(pair.publicPem);
  // The seed is wiped once used.
  expect(seed.equals(Buffer.alloc(SM2_SEED_BYTES))).toBe(true);
});

it('refuses a seed of the wrong size', () => {
  expect(() => sm2KeyPair(Buffer.alloc(32))).toThrow(`an SM2 key needs ${SM2_SEED_BYTES} random bytes, got 32`);
});

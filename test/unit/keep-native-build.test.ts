import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

/**
 * scripts/keep-native-build.js: the set-up keeps better-sqlite3's compiled addon where its
 * installer looks before it compiles, so that a clean clone on the same machine unpacks it.
 * Driven with the real installer (prebuild-install) on a copy of the package without its build.
 */

const ROOT = path.resolve(__dirname, '..', '..');
const PACKAGE = path.join(ROOT, 'node_modules', 'better-sqlite3');
const SCRIPT = path.join(ROOT, 'scripts', 'keep-native-build.js');

let work: string;
beforeEach(() => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'keep-native-build-'));
});
afterEach(() => fs.rmSync(work, { recursive: true, force: true }));

/** Runs the script with npm's cache in `cache`; answers what it wrote on stderr. */
function keep(cache: string, pkgDir?: string): string {
  const r = spawnSync(process.execPath, [SCRIPT, ...(pkgDir ? [pkgDir] : [])], { cwd: ROOT, env: { ...process.env, npm_config_cache: cache }, encoding: 'utf8' });
  expect(r.status).toBe(0); // only a cache: it never fails the set-up
  return r.stderr.trim();
}

describe("the set-up's kept SQLite build", () => {
  it('is what the installer of a clean copy unpacks instead of compiling, byte for byte', () => {
    const cache = path.join(work, 'npm-cache');
    const kept = keep(cache);
    expect(kept).toMatch(/^setup: kept better-sqlite3's compiled addon in .*_prebuilds\/.*better-sqlite3-v[\d.]+-node-v\d+-linux-x64\.tar\.gz$/);
    expect(keep(cache)).toMatch(/^setup: better-sqlite3's compiled addon is already kept in /);

    const copy = path.join(work, 'better-sqlite3');
    fs.mkdirSync(copy);
    fs.copyFileSync(path.join(PACKAGE, 'package.json'), path.join(copy, 'package.json'));
    const installer = path.join(path.dirname(require.resolve('prebuild-install/package.json', { paths: [PACKAGE] })), 'bin.js');
    // The same call as the package's install script; prebuild-install loads the addon before it accepts it.
    execFileSync(process.execPath, [installer], { cwd: copy, env: { ...process.env, npm_config_cache: cache }, stdio: 'ignore' });
    const unpacked = path.join(copy, 'build', 'Release', 'better_sqlite3.node');
    expect(fs.readFileSync(unpacked).equals(fs.readFileSync(path.join(PACKAGE, 'build', 'Release', 'better_sqlite3.node')))).toBe(true);
  });

  it('is not kept when the package holds no compiled addon', () => {
    const copy = path.join(work, 'better-sqlite3');
    fs.mkdirSync(copy);
    fs.copyFileSync(path.join(PACKAGE, 'package.json'), path.join(copy, 'package.json'));
    expect(keep(path.join(work, 'npm-cache'), copy)).toBe('setup: better-sqlite3 has no compiled addon to keep');
    expect(fs.existsSync(path.join(work, 'npm-cache'))).toBe(false);
  });

  it('is skipped with a message, not a failed set-up, when the cache cannot be written', () => {
    const notADirectory = path.join(work, 'file');
    fs.writeFileSync(notADirectory, '');
    expect(keep(notADirectory)).toMatch(/^setup: could not keep better-sqlite3's compiled addon: ENOTDIR/);
  });
});

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { readCommandSources, scanRepository, scanSource, setupPackages, shellCommands } from '../support/spawned-commands';

/**
 * `npm test` must pass on a machine where only Node and the README's commands were run: every
 * external command that the code, tests, benchmarks and scripts spawn is installed by
 * scripts/setup.sh or is on a fresh machine (scripts/fresh-machine-commands.tsv), or comes
 * with Node and the npm dependencies.
 */

const ROOT = path.resolve(__dirname, '..', '..');
const WITH_NODE = new Set(['node', 'npm', 'npx']);
const sources = readCommandSources(path.join(ROOT, 'scripts', 'fresh-machine-commands.tsv'));
const installed = setupPackages(fs.readFileSync(path.join(ROOT, 'scripts', 'setup.sh'), 'utf8'));
const scan = scanRepository(ROOT);

const npmBin = (cmd: string) => fs.existsSync(path.join(ROOT, 'node_modules', '.bin', cmd));

describe('the commands the project spawns', () => {
  it('are each installed by scripts/setup.sh, on a fresh machine, or shipped with Node', () => {
    const known = new Set(sources.map((s) => s.command));
    const missing = scan.commands.filter((c) => !WITH_NODE.has(c.command) && !npmBin(c.command) && !known.has(c.command) && !installed.includes(c.command));
    const report = [...new Set(missing.map((m) => m.command))].map((cmd) => `${cmd} (spawned at ${missing.filter((m) => m.command === cmd).map((m) => m.at).join(', ')})`);
    expect(report).toEqual([]);
  });

  it('are all known statically: no spawn takes its command from a variable the check cannot read', () => {
    expect(scan.unresolved).toEqual([]);
  });

  it('come from packages that scripts/setup.sh really installs, when the list says so', () => {
    expect(installed.length).toBeGreaterThan(0);
    expect(sources.filter((s) => s.source === 'setup' && !installed.includes(s.debianPackage)).map((s) => s.debianPackage)).toEqual([]);
  });

  it('are all still spawned, so the list holds no stale entry', () => {
    const used = new Set(scan.commands.map((c) => c.command));
    expect(sources.filter((s) => !used.has(s.command)).map((s) => s.command)).toEqual([]);
  });
});

describe('the scan itself', () => {
  let dir: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kms-spawn-scan-'));
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  const scanOf = (source: string, extra: Record<string, string> = {}) => {
    for (const [name, text] of Object.entries(extra)) fs.writeFileSync(path.join(dir, name), text);
    const file = path.join(dir, 'probe.ts');
    fs.writeFileSync(file, source);
    const r = scanSource(file, dir);
    return { commands: r.commands.map((c) => c.command), unresolved: r.unresolved.length };
  };

  it('finds literals, renamed imports, namespace imports, promisify aliases, and process.execPath', () => {
    const r = scanOf(`
      import { execFileSync as x, execFile, spawn } from 'node:child_process';
      import * as cp from 'child_process';
      import { promisify } from 'node:util';
      const exec = promisify(execFile);
      x('pkcs11-tool', ['--list-objects']);
      cp.spawnSync('/usr/bin/softhsm2-util', []);
      exec('openssl', ['rand', '4']);
      promisify(execFile)('gcc', []);
      spawn(process.execPath, ['bin/kms.js']);
      /abc/.exec('not a spawn');
    `);
    expect(r).toEqual({ commands: ['pkcs11-tool', 'softhsm2-util', 'openssl', 'gcc', 'node'], unresolved: 0 });
  });

  it('follows constants of the file and of imported modules, and reads shell strings', () => {
    fs.writeFileSync(path.join(dir, 'constants.ts'), `export const TOOL = process.env.X ? '/usr/bin/wrk' : 'wrk';\n`);
    const r = scanOf(`
      import { execSync, spawn } from 'node:child_process';
      import { TOOL } from './constants';
      const OTHER = 'redis-cli';
      spawn(TOOL, []);
      spawn(OTHER, []);
      execSync('pg_ctlcluster $(ls /etc/postgresql) main start && curl -s x | jq .');
      spawn('psql -c 1', { shell: true });
    `);
    expect(r).toEqual({ commands: ['wrk', 'wrk', 'redis-cli', 'sh', 'pg_ctlcluster', 'curl', 'jq', 'ls', 'sh', 'psql'], unresolved: 0 });
  });

  it('reports a spawn whose command it cannot tell', () => {
    expect(scanOf(`import { spawn } from 'node:child_process';\nexport const f = (cmd: string) => spawn(cmd, []);\n`).unresolved).toBe(1);
  });

  it('reads the commands of sh lines, not their data, builtins or keywords', () => {
    expect(shellCommands(`set -e\ncd "$(dirname "$0")/.."\nnode -e 'if (a; b) { c | d }'`)).toEqual(['node', 'dirname']);
    expect(shellCommands('for pkg in softhsm2 wrk; do\n  dpkg -s "$pkg" >/dev/null 2>&1 || need="$need $pkg"\ndone')).toEqual(['dpkg']);
    expect(shellCommands(`if [ "$(id -u)" = 0 ]; then sudo=""; elif command -v sudo >/dev/null 2>&1; then sudo="sudo"; fi`)).toEqual(['id']);
    expect(shellCommands('  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq $need >/dev/null')).toEqual(['apt-get']);
    expect(shellCommands('echo "setup: please install:$need (apt-get install$need)" >&2; exit 1')).toEqual([]);
    expect(shellCommands('pass() {\n  name=$1\n  (npm test -- "$@" > "$name.log")\n}\npass sqlite --x &\nwait')).toEqual(['npm']);
  });
});

import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';

/**
 * The package's `./huks` subpath as an application loads it (built dist, resolved through
 * package.json `exports`): CommonJS require and ESM import, default and named; the existing
 * entry point still works.
 */
const ROOT = path.resolve(__dirname, '..');
const run = promisify(execFile);
const node = (...args: string[]) => run(process.execPath, args, { cwd: ROOT }).then((r) => r.stdout.trim());

const PROBE = `
  const shape = (m) => [typeof m.generateKeyItem, typeof m.initSession, typeof m.configure, m.HuksTag.HUKS_TAG_AE_TAG, m.HuksKeyAlg.HUKS_ALG_AES, typeof m.BusinessError].join(' ');
  let code;
  try { m.generateKeyItem('', {}); } catch (e) { code = e.code + ' ' + (e instanceof m.BusinessError); }
`;
const WANT = 'function function function 1342187289 20 function|401 true';

it('loads with require, as the module and as its default', async () => {
  expect(await node('-e', `const m = require('hsm-kms/huks'); ${PROBE} console.log(shape(m) + '|' + code + '|' + shape(m.default));`)).toBe(`${WANT}|function function function 1342187289 20 function`);
});

it('loads with import, default and named', async () => {
  const src = `import m from 'hsm-kms/huks'; import { HuksTag, initSession } from 'hsm-kms/huks'; ${PROBE} console.log(shape(m) + '|' + code + '|' + HuksTag.HUKS_TAG_NONCE + ' ' + typeof initSession);`;
  expect(await node('--input-type=module', '-e', src)).toBe(`${WANT}|1342177289 function`);
});

it('ships type declarations for the subpath', async () => {
  expect(await node('-e', `console.log(require.resolve('hsm-kms/huks'), require('fs').existsSync(require('path').join('dist','src','client','huks','index.d.ts')))`)).toBe(`${path.join(ROOT, 'dist', 'src', 'client', 'huks', 'index.js')} true`);
});

it('keeps the kms command working', async () => {
  await expect(run(process.execPath, [path.join(ROOT, 'bin', 'kms.js'), 'help'], { cwd: ROOT })).resolves.toBeDefined();
});

describe('types, for a TypeScript application that installed the package', () => {
  let dir: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kms-huks-app-'));
    fs.mkdirSync(path.join(dir, 'node_modules'));
    fs.symlinkSync(ROOT, path.join(dir, 'node_modules', 'hsm-kms'), 'dir');
    fs.writeFileSync(
      path.join(dir, 'app.ts'),
      `import huks from 'hsm-kms/huks';
import { BusinessError, HuksTag } from 'hsm-kms/huks';
huks.configure({ endpoint: 'https://kms.example.com', secretId: 'id', secretKey: 'key', region: 'r' });
let options: huks.HuksOptions = { properties: [{ tag: HuksTag.HUKS_TAG_ALGORITHM, value: huks.HuksKeyAlg.HUKS_ALG_AES }] };
huks.generateKeyItem('a', options, (error: BusinessError | null, data: void) => {});
huks.initSession('a', options).then((s: huks.HuksSessionHandle) => huks.updateSession(s.handle, options, new Uint8Array(0))).then((r: huks.HuksReturnResult) => r.outData);
huks.finishSession(1, options, new Uint8Array(0), (e, r) => r.outData);
`,
    );
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it.each(['node16', 'node10'])('resolve with moduleResolution %s and check the seed-style calls', async (resolution) => {
    const tsc = path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
    const module = resolution === 'node16' ? 'node16' : 'commonjs';
    // Both resolve the same declaration files: node16 checks them whole (and Node's types with
    // them, most of the check's CPU), node10 only how they resolve and the calls against them.
    const libCheck = resolution === 'node16' ? [] : ['--skipLibCheck'];
    const args = [tsc, '--noEmit', '--strict', '--esModuleInterop', '--module', module, '--moduleResolution', resolution, '--ignoreDeprecations', '6.0', ...libCheck, '--types', 'node', '--typeRoots', path.join(ROOT, 'node_modules', '@types'), path.join(dir, 'app.ts')];
    await expect(run(process.execPath, args, { cwd: dir })).resolves.toBeDefined();
    // A type check of the application: on a loaded CI machine it took over 60 s.
  }, 180_000);
});

it('imports nothing of the service: the client stands alone in the package', () => {
  const dir = path.join(ROOT, 'src', 'client', 'huks');
  const outside = fs.readdirSync(dir).flatMap((f) => [...fs.readFileSync(path.join(dir, f), 'utf8').matchAll(/from '(\.[^']*)'/g)].map((m) => m[1]).filter((s) => !s.startsWith('./')).map((s) => `${f}: ${s}`));
  expect(outside).toEqual([]);
});

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CliHost } from '../support/kms-service';

/**
 * The tests' CLI host (test/support/cli-host.js) as the test files drive it, here with small
 * stand-in hosts: answers in order, a line that is not an answer kept for the errors, and a
 * host that dies failing what waits and what comes after, never leaving a test hanging.
 */

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kms-cli-host-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function host(name: string, onLine: string): string {
  const file = path.join(dir, `${name}.js`);
  fs.writeFileSync(file, `require('node:readline').createInterface({ input: process.stdin }).on('line', (line) => { const { argv } = JSON.parse(line); ${onLine} });\n`);
  return file;
}

it('answers each command in order, keeping what is not an answer out of the answers', async () => {
  const h = new CliHost(host('echo', `process.stdout.write('a stray line\\n' + JSON.stringify({ code: argv.length, stdout: argv.join(' '), stderr: '' }) + '\\n');`));
  try {
    expect(await Promise.all([h.run(['account', 'list'], {}), h.run(['token', 'audit'], {})])).toEqual([
      { code: 2, stdout: 'account list', stderr: '' },
      { code: 2, stdout: 'token audit', stderr: '' },
    ]);
  } finally {
    await h.close();
  }
});

it('fails what waits when the host dies, with what it wrote, and refuses what comes after', async () => {
  const h = new CliHost(host('dies', `process.stdout.write('not json\\n'); process.stderr.write('the bundle broke\\n'); process.exit(3);`));
  const first = h.run(['account', 'list'], {});
  await expect(first).rejects.toThrow(/the CLI host exited \(3\):\n(.|\n)*the bundle broke/);
  await expect(first).rejects.toThrow(/not json/);
  await expect(h.run(['account', 'list'], {})).rejects.toThrow(/the CLI host has exited:\n(.|\n)*the bundle broke/);
  await expect(h.close()).resolves.toBeUndefined();
});

it('fails what waits when the host is killed', async () => {
  const h = new CliHost(host('killed', `process.kill(process.pid, 'SIGKILL');`));
  await expect(h.run(['account', 'list'], {})).rejects.toThrow(/the CLI host exited \(SIGKILL\)/);
});

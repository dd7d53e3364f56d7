'use strict';
const readline = require('node:readline');
const { loadBundle } = require('../../bin/kms.js');

/**
 * The CLI for one test file, loaded once (support/kms-service.ts starts it): each line on
 * stdin is a command, {"argv":[...],"env":{...}}, run by the same `main` as `bin/kms.js`
 * with that environment; each answer is a line {"code","stdout","stderr"} (what the command
 * wrote; the log goes to this process's stderr). A `kms` process spends
 * about 0.6 s of CPU loading the bundle and 0.05 s on its command, and the tests' set-up
 * calls (accounts, users, tokens, token audits) were a third of a test pass's CPU. Commands
 * run one at a time; each builds and closes its own core, as in its own process. Tests of
 * the CLI as a process (bin/kms.js's own exit, usage, configuration errors) run it as one.
 */
const kms = loadBundle();
const out = { stdout: process.stdout.write.bind(process.stdout), stderr: process.stderr.write.bind(process.stderr) };

/** Collects what the command writes to `name` instead of writing it. */
function capture(name, into) {
  process[name].write = (chunk, ...rest) => {
    into[name] += chunk;
    const done = rest.find((r) => typeof r === 'function');
    if (done) process.nextTick(done);
    return true;
  };
}

/** Makes the environment `env` through process.env, whose setter reaches the C library (SoftHSM reads SOFTHSM2_CONF with getenv). */
function useEnv(env) {
  for (const k of Object.keys(process.env)) if (!(k in env)) delete process.env[k];
  for (const [k, v] of Object.entries(env)) if (process.env[k] !== v) process.env[k] = v;
}

const queue = [];
let running = false;

async function drain() {
  if (running) return;
  running = true;
  while (queue.length) {
    const { argv, env } = JSON.parse(queue.shift());
    useEnv(env);
    const written = { stdout: '', stderr: '' };
    capture('stdout', written);
    capture('stderr', written);
    let code;
    try {
      code = await kms.main(argv);
    } catch (e) {
      written.stderr += `kms: ${e.stack}\n`;
      code = 1;
    } finally {
      process.stdout.write = out.stdout;
      process.stderr.write = out.stderr;
    }
    out.stdout(JSON.stringify({ code, ...written }) + '\n');
  }
  running = false;
}

readline.createInterface({ input: process.stdin }).on('line', (line) => {
  queue.push(line);
  void drain();
});

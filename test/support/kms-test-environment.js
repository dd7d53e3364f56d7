'use strict';
const fs = require('node:fs');
const path = require('node:path');
const { TestEnvironment } = require('jest-environment-node');

/**
 * Jest's node environment, plus two things for CI's log. A failed test or hook sets the test
 * file's global `kmsTestFailed`, so that the test services print what explains it (their
 * internal errors: KmsService.stop). With KMS_TEST_CPU_REPORT=FILE each test file appends a JSON
 * line to FILE with the CPU seconds it cost, the Jest worker's own (clients, signing, checks)
 * and its child processes' (services with their workers, CLI calls, openssl, ...), measured
 * at teardown, when every hook has run and the children have exited. CI's budget is CPU on two
 * cores; this says which files spend it. With KMS_TEST_HANDLE_REPORT=FILE each test file
 * appends the handles (sockets, timers, child processes, ...) its Jest worker holds after its
 * last hook beyond those it held before the file began: what keeps a worker from exiting at
 * the end of a run.
 */
class KmsTestEnvironment extends TestEnvironment {
  constructor(config, context) {
    super(config, context);
    this.file = path.relative(config.projectConfig.rootDir, context.testPath);
  }

  async setup() {
    await super.setup();
    this.began = Date.now();
    this.start = times();
    this.handles = process.env.KMS_TEST_HANDLE_REPORT ? process.getActiveResourcesInfo() : [];
  }

  handleTestEvent(event) {
    if (event.name === 'test_fn_failure' || event.name === 'hook_failure') this.global.kmsTestFailed = true;
  }

  async teardown() {
    const report = process.env.KMS_TEST_CPU_REPORT;
    if (report && this.start) {
      const d = times().map((t, i) => t - this.start[i]);
      const line = { file: this.file, wall: (Date.now() - this.began) / 1000, self: +(d[0] + d[1]).toFixed(2), children: +(d[2] + d[3]).toFixed(2) };
      fs.appendFileSync(report, JSON.stringify(line) + '\n');
    }
    const handleReport = process.env.KMS_TEST_HANDLE_REPORT;
    if (handleReport) {
      // What is closing as the last hook ends (a socket's close, a child's exit) gets a moment.
      await new Promise((resolve) => setTimeout(resolve, 500));
      const left = excess(process.getActiveResourcesInfo(), this.handles);
      fs.appendFileSync(handleReport, JSON.stringify({ file: this.file, left }) + '\n');
    }
    await super.teardown();
  }
}

/** How many of each kind of handle `after` holds beyond `before`. */
function excess(after, before) {
  const count = {};
  for (const kind of after) count[kind] = (count[kind] ?? 0) + 1;
  for (const kind of before) if (count[kind]) count[kind] -= 1;
  return Object.fromEntries(Object.entries(count).filter(([, n]) => n > 0));
}

/** utime, stime, cutime and cstime of this process, in seconds (Linux). */
function times() {
  const stat = fs.readFileSync('/proc/self/stat', 'latin1');
  return stat
    .slice(stat.lastIndexOf(')') + 2)
    .split(' ')
    .slice(11, 15)
    .map((t) => Number(t) / 100);
}

module.exports = KmsTestEnvironment;

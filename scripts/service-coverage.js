#!/usr/bin/env node
'use strict';
// `npm run coverage [-- <jest arguments>]`: runs the tests (all, or those the arguments name) with
// NODE_V8_COVERAGE set, so that every service and CLI process they start records which code it
// ran; merges those records over the bundle (dist/bundle/kms.js), maps them to src/ through the
// bundle's source map, and prints the service's lines that no process reached, error paths first.
// Only code that runs in the bundle counts: the SDK, the HUKS client and the console run in Jest
// or the browser, and a process killed with SIGKILL (the crash tests) records nothing.
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const Module = require('node:module');
const { SourceMapConsumer } = require('source-map');

const root = path.join(__dirname, '..');
const bundle = path.join(root, 'dist', 'bundle', 'kms.js');
const NOT_IN_BUNDLE = /^src\/(sdk|client|console)\/|^src\/cli\/file-crypto\.ts$/;
const ERROR_LINE = /\bthrow\b|reject\(|Error\(/;

function main(args) {
  const all = args.includes('--all');
  const jestArgs = args.filter((a) => a !== '--all');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kms-coverage-'));
  try {
    const jest = spawnSync(process.execPath, [require.resolve('jest/bin/jest'), ...jestArgs], { cwd: root, stdio: 'inherit', env: { ...process.env, NODE_V8_COVERAGE: dir } });
    const { processes, lines } = merge(dir);
    report(processes, lines, all);
    return jest.status ?? 1;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** Bytes of the bundle that some process ran (1) or not. */
function coveredBytes(dir, text) {
  // bin/kms.js compiles the bundle wrapped as a CommonJS module: offsets count the wrapper.
  const prefix = Module.wrapper[0].length;
  const covered = new Uint8Array(text.length);
  const local = new Uint8Array(text.length);
  let processes = 0;
  for (const f of fs.readdirSync(dir)) {
    let record;
    try {
      record = JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8'));
    } catch {
      continue; // a process that stopped while writing
    }
    const script = record.result.find((s) => s.url === bundle || s.url === `file://${bundle}`);
    if (!script) continue;
    processes++;
    local.fill(0);
    // A function's first range is the function itself; nested ranges come after and override it.
    for (const fn of script.functions) {
      for (const r of fn.ranges) {
        const a = Math.max(0, r.startOffset - prefix);
        const b = Math.min(text.length, r.endOffset - prefix);
        if (b > a) local.fill(r.count > 0 ? 1 : 2, a, b);
      }
    }
    for (let i = 0; i < local.length; i++) if (local[i] === 1) covered[i] = 1;
  }
  return { covered, processes };
}

/** src/ lines of the service, each with whether any of its code ran. */
function merge(dir) {
  const text = fs.readFileSync(bundle, 'utf8');
  const { covered, processes } = coveredBytes(dir, text);
  const lineStart = [0];
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) === 10) lineStart.push(i + 1);
  const map = new SourceMapConsumer(JSON.parse(fs.readFileSync(`${bundle}.map`, 'utf8')));
  const ours = new Map();
  const isOurs = (abs) => {
    if (!ours.has(abs)) ours.set(abs, abs.startsWith(path.join(root, 'src') + path.sep) && fs.existsSync(abs));
    return ours.get(abs);
  };
  const lines = new Map();
  map.eachMapping((m) => {
    // Dependencies' maps name their own src/ folders, resolved here as if they were ours.
    if (!m.source || m.source.includes('node_modules')) return;
    const abs = path.resolve(path.dirname(bundle), m.source);
    if (!isOurs(abs)) return;
    const file = path.relative(root, abs);
    if (NOT_IN_BUNDLE.test(file)) return;
    const key = `${file}:${m.originalLine}`;
    const ran = covered[lineStart[m.generatedLine - 1] + m.generatedColumn] === 1;
    lines.set(key, (lines.get(key) ?? false) || ran);
  });
  return { processes, lines };
}

function report(processes, lines, all) {
  const sources = new Map();
  const source = (file) => {
    if (!sources.has(file)) sources.set(file, fs.readFileSync(path.join(root, file), 'utf8').split('\n'));
    return sources.get(file);
  };
  const unreached = [...lines]
    .filter(([, ran]) => !ran)
    .map(([key]) => {
      const at = key.lastIndexOf(':');
      const file = key.slice(0, at);
      const line = Number(key.slice(at + 1));
      return { file, line, text: (source(file)[line - 1] ?? '').trim() };
    })
    .sort((a, b) => a.file.localeCompare(b.file) || a.line - b.line);
  const errors = unreached.filter((u) => ERROR_LINE.test(u.text));
  const show = (u) => console.log(`  ${u.file}:${u.line}  ${u.text.slice(0, 140)}`);
  console.log(`\ncoverage: ${processes} service and CLI processes; ${lines.size} lines of service code, ${lines.size - unreached.length} reached (${((100 * (lines.size - unreached.length)) / Math.max(1, lines.size)).toFixed(1)} %)`);
  console.log(`error paths no process reached (${errors.length}):`);
  errors.forEach(show);
  if (all) {
    console.log(`every line no process reached (${unreached.length}):`);
    unreached.forEach(show);
  } else {
    console.log(`(${unreached.length} unreached lines in all; --all lists them)`);
  }
}

if (!fs.existsSync(bundle)) {
  console.error('coverage: dist/bundle/kms.js is missing; run `npm run build`');
  process.exit(1);
}
process.exit(main(process.argv.slice(2)));

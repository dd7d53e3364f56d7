#!/usr/bin/env node
'use strict';
// Bundles the service and its CLI (dist/src/cli/main.js, as tsc emitted it, decorator metadata
// included) with their npm dependencies into one file, dist/bundle/kms.js, which bin/kms.js
// loads. One file instead of about 1,600 is most of a command's start-up: resolving and
// compiling the modules took 0.8 s of CPU per `kms` call and per service process.
// Native modules stay outside, as do the optional Nest and TypeORM packages this service never
// loads (their requires stay dynamic and fail only if reached).
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const esbuild = require('esbuild');

const root = path.join(__dirname, '..');
const out = path.join(root, 'dist', 'bundle');

fs.rmSync(out, { recursive: true, force: true });
esbuild.buildSync({
  entryPoints: { kms: path.join(root, 'dist', 'src', 'cli', 'main.js') },
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  outdir: out,
  external: ['better-sqlite3', 'pkcs11js', 'koffi', 'pg-native', '@nestjs/microservices', '@nestjs/websockets', 'class-transformer', 'class-validator', '@fastify/*'],
  // Whitespace and syntax only: identifiers keep their names, which Nest and TypeORM read (entity
  // and table names come from class names).
  minifyWhitespace: true,
  minifySyntax: true,
  sourcemap: 'linked',
  sourcesContent: false,
  legalComments: 'linked',
  logLevel: 'warning',
});
// The first start writes V8's code cache beside the bundle (bin/kms.js); do it here, once,
// rather than in every process that a test run or a cluster starts at the same moment.
execFileSync(process.execPath, [path.join(root, 'bin', 'kms.js'), '--help'], { stdio: 'ignore' });

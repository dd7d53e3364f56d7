#!/usr/bin/env node
'use strict';
// Builds the web console (console/) into dist/console/: type-checks it, bundles the app and
// its UI toolkit's CSS with esbuild (nothing loaded from elsewhere at run time), copies index.html.
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const esbuild = require('esbuild');

const root = path.join(__dirname, '..');
const src = path.join(root, 'console');
const out = path.join(root, 'dist', 'console');

execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', path.join(src, 'tsconfig.json')], { stdio: 'inherit' });
fs.rmSync(out, { recursive: true, force: true });
esbuild.buildSync({
  entryPoints: { app: path.join(src, 'src', 'main.tsx') },
  bundle: true,
  minify: true,
  format: 'iife',
  target: ['chrome110', 'firefox110', 'safari16'],
  jsx: 'automatic',
  jsxImportSource: 'preact',
  outdir: out,
  legalComments: 'linked',
  logLevel: 'warning',
});
esbuild.buildSync({
  entryPoints: { app: path.join(src, 'src', 'styles.css') },
  bundle: true,
  minify: true,
  outdir: out,
  legalComments: 'linked',
  logLevel: 'warning',
});
fs.copyFileSync(path.join(src, 'index.html'), path.join(out, 'index.html'));

#!/usr/bin/env node
// Keeps better-sqlite3's compiled addon in npm's prebuild cache, the place its installer
// (prebuild-install) reads before it would download a prebuilt binary. The registries this
// project installs from carry no prebuilt binaries, so every new node_modules compiles SQLite
// (about 2 minutes on 2 cores); with this, the next install on the same machine (a clean clone,
// CI) unpacks the addon compiled here instead. The cache file is named as a download would be:
// by version, Node ABI, platform and architecture; prebuild-install loads it before it accepts
// it and compiles when it does not load. Run by scripts/setup.sh after `npm install`.
'use strict';
const fs = require('fs');
const path = require('path');
const zlib = require('zlib');
const { pipeline } = require('stream/promises');

async function keep(pkgDir) {
  const binary = path.join(pkgDir, 'build', 'Release', 'better_sqlite3.node');
  if (!fs.existsSync(binary)) return 'better-sqlite3 has no compiled addon to keep';
  // prebuild-install's own naming, so that its lookup and this file agree.
  const from = (id) => require(require.resolve(id, { paths: [pkgDir] }));
  const util = from('prebuild-install/util');
  const pkg = JSON.parse(fs.readFileSync(path.join(pkgDir, 'package.json'), 'utf8'));
  const opts = { ...from('prebuild-install/rc')(pkg), pkg };
  const cached = util.cachedPrebuild(util.getDownloadUrl(opts));
  if (fs.existsSync(cached)) return `better-sqlite3's compiled addon is already kept in ${cached}`;

  fs.mkdirSync(path.dirname(cached), { recursive: true });
  // Written aside and renamed, so that a concurrent install never reads half a file.
  const partial = `${cached}.${process.pid}.tmp`;
  try {
    const pack = from('tar-fs').pack(pkgDir, { entries: ['build/Release/better_sqlite3.node'] });
    await pipeline(pack, zlib.createGzip(), fs.createWriteStream(partial));
    fs.renameSync(partial, cached);
  } finally {
    fs.rmSync(partial, { force: true });
  }
  return `kept better-sqlite3's compiled addon in ${cached}`;
}

const pkgDir = process.argv[2] ?? path.dirname(require.resolve('better-sqlite3/package.json'));
keep(pkgDir).then(
  (what) => console.error(`setup: ${what}`),
  // Only a cache: the set-up goes on without it.
  (e) => console.error(`setup: could not keep better-sqlite3's compiled addon: ${e.message}`),
);

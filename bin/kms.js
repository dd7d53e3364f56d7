#!/usr/bin/env node
'use strict';
const path = require('node:path');
const fs = require('node:fs');
const Module = require('node:module');
const vm = require('node:vm');

const dist = path.join(__dirname, '..', 'dist');
const bundle = path.join(dist, 'bundle', 'kms.js');
if (!fs.existsSync(bundle)) {
  process.stderr.write('kms: not built yet; run `npm run build` (or `npm start`, which builds first)\n');
  process.exit(1);
}

/**
 * Loads the bundle (scripts/build-bundle.js) as a CommonJS module, with V8's code cache kept
 * beside it: compiling 8 MB of JavaScript is most of what a start costs. `save()` writes the
 * cache when there was none or V8 refused it (another Node version or flags), once the
 * command has run, so that it holds the functions a start compiles, not only the top level.
 * The write goes through a temporary file and a rename: processes that start together never
 * read half a cache, and a folder that cannot be written only costs the speed.
 */
function loadBundle() {
  const cacheFile = `${bundle}.${process.version}.v8cache`;
  let cachedData;
  try {
    cachedData = fs.readFileSync(cacheFile);
  } catch {
    /* none yet */
  }
  const script = new vm.Script(Module.wrap(fs.readFileSync(bundle, 'utf8')), { filename: bundle, cachedData });
  const mod = new Module(bundle, module);
  mod.filename = bundle;
  script.runInThisContext().call(mod.exports, mod.exports, Module.createRequire(bundle), mod, bundle, path.dirname(bundle));
  const save = () => {
    if (cachedData && !script.cachedDataRejected) return;
    const tmp = `${cacheFile}.${process.pid}`;
    try {
      fs.writeFileSync(tmp, script.createCachedData());
      fs.renameSync(tmp, cacheFile);
    } catch {
      fs.rmSync(tmp, { force: true });
    }
  };
  return { main: mod.exports.main, save };
}

// Required rather than run (the tests' CLI host, test/support/cli-host.js): only the loader.
if (require.main !== module) {
  module.exports = { loadBundle };
  return;
}

const argv = process.argv.slice(2);
// The file commands are clients of a service: they load the SDK only, not the service's modules.
if (argv[0] === 'encrypt' || argv[0] === 'decrypt') {
  require(path.join(dist, 'src', 'cli', 'file-crypto.js')).fileCrypto(argv[0], argv.slice(1)).then(exit);
} else {
  const kms = loadBundle();
  kms.main(argv).then((code) => {
    kms.save();
    exit(code);
  });
}

function exit(code) {
  // Exit only once what was written to a pipe is out: process.exit drops what is still queued (-1: keep running, as `serve`).
  if (code >= 0) process.stdout.write('', () => process.stderr.write('', () => process.exit(code)));
}

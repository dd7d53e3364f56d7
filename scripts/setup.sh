#!/bin/sh
# Idempotent set-up used by `npm start`, `npm test` and `npm run bench`: Debian packages,
# npm dependencies, build. Safe to run again; does only what is missing.
set -e
cd "$(dirname "$0")/.."

node -e 'const [a, b] = process.versions.node.split(".").map(Number); if (a < 20 || (a === 20 && b < 12)) { console.error("kms needs Node.js 20.12 or newer"); process.exit(1) }'

need=""
# chromium: the browser the console tests (test/console.e2e.test.ts) and `npm run screenshots` drive.
for pkg in softhsm2 p11-kit p11-kit-modules wrk redis-server chromium; do
  dpkg -s "$pkg" >/dev/null 2>&1 || need="$need $pkg"
done
if [ -n "$need" ]; then
  if [ "$(id -u)" = 0 ]; then sudo=""; elif command -v sudo >/dev/null 2>&1; then sudo="sudo"; else
    echo "setup: please install:$need (apt-get install$need)" >&2; exit 1
  fi
  echo "setup: installing$need" >&2
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends $need >/dev/null
fi

if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "setup: installing npm dependencies" >&2
  # npm install, not npm ci: this registry's lock files omit other platforms' optional
  # packages, which npm ci then reports as missing. The versions still come from the lock.
  npm install --no-audit --no-fund --loglevel=error
  # The next install on this machine (a clean clone, CI) then unpacks SQLite instead of compiling it.
  node scripts/keep-native-build.js
fi

# Build unless dist/ is newer than every source: `npm test` runs this set-up too, and CI runs two
# passes side by side after its own set-up; a second build would rewrite dist/ under the other
# pass's running services.
stamp=dist/.built
if [ ! -f "$stamp" ] || [ -n "$(find src bench examples console scripts bin package.json package-lock.json tsconfig*.json -newer "$stamp" -print -quit)" ]; then
  npm run --silent build
  touch "$stamp"
fi

#!/usr/bin/env bash
# Builds the browser console's script: console.js with lnmessage, bundled by esbuild into
# OUT_DIR/console.bundle.js (default OUT_DIR: console/dist, where index.html loads it from).
#
#   console/build.sh [OUT_DIR]
#
# The packages are the pinned ones of tests/js (package.json and its lock file): by default
# they are installed into tests/js/node_modules with `npm ci` on first use; NODE_MODULES names
# another node_modules that holds them (the tests pass the one they provisioned).
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
out="${1:-$root/console/dist}"
modules="${NODE_MODULES:-$root/tests/js/node_modules}"

if [ ! -e "$modules/esbuild/bin/esbuild" ]; then
  if [ -n "${NODE_MODULES:-}" ]; then
    echo "build.sh: no esbuild in NODE_MODULES=$modules" >&2
    exit 1
  fi
  (cd "$root/tests/js" && npm ci --ignore-scripts --no-audit --no-fund)
fi

mkdir -p "$out"
# ws is lnmessage's socket in Node.js < 22 only: its package's browser field gives esbuild a
# stub, and lnmessage uses the browser's own WebSocket.
NODE_PATH="$modules" node "$modules/esbuild/bin/esbuild" "$root/console/console.js" \
  --bundle --format=iife --platform=browser --target=es2022 \
  --log-level=warning --outfile="$out/console.bundle.js"

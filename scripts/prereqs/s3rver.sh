#!/usr/bin/env bash
# s3rver 3.7.1 (an S3-compatible server in Node.js) for the object-storage tests, installed into .tools/s3rver.
set -euo pipefail
cd "$(dirname "$0")/../.."
target=.tools/s3rver
if [ -f "$target/node_modules/s3rver/bin/s3rver.js" ]; then
  exit 0
fi
command -v npm >/dev/null || { echo "npm is required for the S3 tests (Node 20)" >&2; exit 1; }
mkdir -p "$target"
npm install --prefix "$target" --no-audit --no-fund --loglevel=error s3rver@3.7.1 >/dev/null
test -f "$target/node_modules/s3rver/bin/s3rver.js"

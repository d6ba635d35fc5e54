#!/usr/bin/env bash
# Debian's Chromium for the end-to-end browser test (Playwright drives it; no browser download).
set -euo pipefail
if command -v chromium >/dev/null 2>&1; then
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive
if ! apt-get install -y --no-install-recommends chromium >/dev/null 2>&1; then
  apt-get update -qq >/dev/null
  apt-get install -y --no-install-recommends chromium >/dev/null
fi
command -v chromium >/dev/null

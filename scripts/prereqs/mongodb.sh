#!/usr/bin/env bash
# The official MongoDB C driver (libmongoc + libbson), used through P/Invoke by the MongoDB data source and its tests.
set -euo pipefail
packages="libmongoc-1.0-0 libbson-1.0-0"
if . /etc/os-release 2>/dev/null && [ "${ID:-}" = ubuntu ] && [ "${VERSION_ID%%.*}" -ge 24 ]; then
  packages="libmongoc-1.0-0t64 libbson-1.0-0t64"
fi
missing=""
for p in $packages; do dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"; done
[ -z "$missing" ] && exit 0
export DEBIAN_FRONTEND=noninteractive
if ! apt-get install -y --no-install-recommends $missing >/dev/null 2>&1; then
  apt-get update -qq >/dev/null
  apt-get install -y --no-install-recommends $missing >/dev/null
fi

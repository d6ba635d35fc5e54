#!/usr/bin/env bash
# OpenMP (libgomp1): ML.NET's LightGBM trainer loads lib_lightgbm.so from its NuGet package, which links against
# libgomp.so.1 (`ldd` on it says so). Usually present already; installed when missing.
set -euo pipefail
# grep without -q: it reads all of ldconfig's output, so ldconfig never dies of SIGPIPE (exit 141 under pipefail).
if ldconfig -p 2>/dev/null | grep 'libgomp\.so\.1 ' >/dev/null; then
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive
if ! apt-get install -y --no-install-recommends libgomp1 >/dev/null 2>&1; then
  apt-get update -qq >/dev/null
  apt-get install -y --no-install-recommends libgomp1 >/dev/null
fi
ldconfig -p | grep 'libgomp\.so\.1 ' >/dev/null

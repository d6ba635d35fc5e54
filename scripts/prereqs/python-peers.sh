#!/usr/bin/env bash
# Debian's scikit-learn and XGBoost for /usr/bin/python3: the test that runs scripts/bench/peers.py on the splits
# `evaluate --write-splits` writes (scripts/bench/accuracy.sh installs the same when missing).
set -euo pipefail
if /usr/bin/python3 -c "import sklearn, xgboost" 2>/dev/null; then
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive
if ! apt-get install -y --no-install-recommends python3-sklearn python3-xgboost >/dev/null 2>&1; then
  apt-get update -qq >/dev/null
  apt-get install -y --no-install-recommends python3-sklearn python3-xgboost >/dev/null
fi
/usr/bin/python3 -c "import sklearn, xgboost"

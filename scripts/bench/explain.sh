#!/usr/bin/env bash
# Explanation cost, paired: NetworkSecurity's TreeSHAP and XGBoost's pred_contribs on models of the same sizes (100×32,
# the earlier default model's shape — the default is now 350×64, `-- explain default` — and 600×64), run back to back on this machine. Installs python3-xgboost (Debian) if it is missing.
# Usage: bash scripts/bench/explain.sh   (no arguments)
set -euo pipefail
# -h/--help prints the usage above and stops, before anything is installed, built, started or deleted.
case "${1:-}" in -h|--help) sed -n '2,/^set -euo/s/^# \{0,1\}//p' "$0"; exit 0;; esac
[ $# -eq 0 ] || { echo "usage: bash scripts/bench/explain.sh (no arguments), not '$*'" >&2; exit 2; }
cd "$(dirname "$0")/../.."

if ! /usr/bin/python3 -c 'import xgboost' 2>/dev/null; then
  if apt-get install -y -qq python3-xgboost >/dev/null 2>&1 || (apt-get update -qq && apt-get install -y -qq python3-xgboost >/dev/null); then
    echo "installed python3-xgboost"
  else
    echo "python3-xgboost is not available: no XGBoost comparison" >&2
  fi
fi

. scripts/bench/build.sh
. scripts/bench/stoppable.sh
build_quietly explain.sh src/NetworkSecurity.Benchmarks
# Shown as measured (tee), kept for the table: captured by $(…) alone, nothing appeared for minutes.
measured=$(mktemp)
trap 'rm -f "$measured"' EXIT
# Each pipeline as one stoppable step: SIGTERM stops the benchmark under way, not only the script.
stoppable bash -c 'set -o pipefail; dotnet run -c Release --no-build --project src/NetworkSecurity.Benchmarks -- explain | tee "$0"' "$measured"
ours=$(cat "$measured")
if /usr/bin/python3 -c 'import xgboost' 2>/dev/null; then
  # The same shapes as ours: 100×32 (the earlier default model's) and 600×64.
  stoppable bash -c 'set -o pipefail; { /usr/bin/python3 scripts/bench/explain_xgboost.py Network_Data/phisingData.csv 100x32 100 32 0.2 1.0 &&
    /usr/bin/python3 scripts/bench/explain_xgboost.py Network_Data/phisingData.csv 600x64 600 64 0.05 0.8; } | tee "$0"' "$measured"
  theirs=$(cat "$measured")
  value() { echo "$1" | sed -n "s/^$2=//p"; }
  echo
  echo "| explanation cost | NetworkSecurity | XGBoost pred_contribs | ratio (XGBoost / ours) |"
  echo "|---|---|---|---|"
  for key in 100x32 600x64; do
    single=$(value "$ours" "ns_${key}_single_us"); batch=$(value "$ours" "ns_${key}_batch2000_s")
    xsingle=$(value "$theirs" "xgb_${key}_single_us"); xbatch=$(value "$theirs" "xgb_${key}_batch2000_s")
    echo "| ${key}: single record | ${single} µs | ${xsingle} µs (from Python) | $(/usr/bin/python3 -c "print(f'{$xsingle/$single:.2f}')") |"
    echo "| ${key}: first 2,000 rows, 2 threads | ${batch} s | ${xbatch} s | $(/usr/bin/python3 -c "print(f'{$xbatch/$batch:.2f}')") |"
  done
fi

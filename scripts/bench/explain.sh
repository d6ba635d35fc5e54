#!/usr/bin/env bash
# Explanation cost, paired: NetworkSecurity's TreeSHAP (default model) and XGBoost's pred_contribs on a model of the
# same size, run back to back on this machine. Installs python3-xgboost (Debian) if it is missing.
# Usage: bash scripts/bench/explain.sh   (from the repository root)
set -euo pipefail
cd "$(dirname "$0")/../.."

if ! /usr/bin/python3 -c 'import xgboost' 2>/dev/null; then
  if apt-get install -y -qq python3-xgboost >/dev/null 2>&1 || (apt-get update -qq && apt-get install -y -qq python3-xgboost >/dev/null); then
    echo "installed python3-xgboost"
  else
    echo "python3-xgboost is not available: no XGBoost comparison" >&2
  fi
fi

dotnet build -c Release src/NetworkSecurity.Benchmarks -v q -nologo >/dev/null
ours=$(dotnet run -c Release --no-build --project src/NetworkSecurity.Benchmarks -- explain)
echo "$ours"
if /usr/bin/python3 -c 'import xgboost' 2>/dev/null; then
  theirs=$(/usr/bin/python3 scripts/bench/explain_xgboost.py Network_Data/phisingData.csv)
  echo "$theirs"
  value() { echo "$1" | sed -n "s/^$2=//p"; }
  single=$(value "$ours" ns_single_us); batch=$(value "$ours" ns_batch2000_s)
  xsingle=$(value "$theirs" xgb_single_us); xbatch=$(value "$theirs" xgb_batch2000_s)
  echo
  echo "| explanation cost | NetworkSecurity | XGBoost pred_contribs | ratio (XGBoost / ours) |"
  echo "|---|---|---|---|"
  echo "| single record | ${single} µs | ${xsingle} µs (from Python) | $(/usr/bin/python3 -c "print(f'{$xsingle/$single:.2f}')") |"
  echo "| first 2,000 rows, 2 threads | ${batch} s | ${xbatch} s | $(/usr/bin/python3 -c "print(f'{$xbatch/$batch:.2f}')") |"
fi

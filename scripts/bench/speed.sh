#!/usr/bin/env bash
# Paired speed runs on this machine: (1) the product's whole default search against the scikit-learn seed grid it
# replaces, (2) the GBDT fit inside a real, cold `train --mode gbdt` process against XGBoost 1.7's fit of the same
# model (300 trees, depth 6, learning rate 0.1, hist) on the very training rows that run wrote. Installs Debian's
# python3-sklearn and python3-xgboost when missing (idempotent).
# Usage: bash scripts/bench/speed.sh   (no arguments)
set -euo pipefail
# -h/--help prints the usage above and stops, before anything is installed, built, started or deleted.
case "${1:-}" in -h|--help) sed -n '2,/^set -euo/s/^# \{0,1\}//p' "$0"; exit 0;; esac
[ $# -eq 0 ] || { echo "usage: bash scripts/bench/speed.sh (no arguments), not '$*'" >&2; exit 2; }
cd "$(dirname "$0")/../.."
python=/usr/bin/python3
if ! "$python" -c "import sklearn, xgboost" 2>/dev/null; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-sklearn python3-xgboost >/dev/null
fi
. scripts/bench/build.sh
. scripts/bench/stoppable.sh
build_quietly speed.sh src/NetworkSecurity.Api/NetworkSecurity.Api.csproj src/NetworkSecurity.Benchmarks/NetworkSecurity.Benchmarks.csproj

echo "== product: whole default search (data_schema/model_grid.yaml, 5-fold CV) + refit"
stoppable dotnet run -c Release --no-build --project src/NetworkSecurity.Benchmarks -- search
echo "== scikit-learn seed grid (GridSearchCV cv=3 over its five grids) + refits"
stoppable "$python" scripts/bench/seed_grid.py

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
echo "== train --mode gbdt, cold process: the fit as the pipeline logs it"
# Tracked into the temp folder too: by default the run went into ./mlruns, left in the repository.
stoppable dotnet run -c Release --no-build --project src/NetworkSecurity.Api -- train --mode gbdt \
  --artifacts "$work/Artifacts" --final-model "$work/final_model" --logs "$work/Logs" "--MLFLOW_TRACKING_URI=$work/mlruns" >/dev/null
grep -ho "Training finished in [0-9.]*s" "$work"/Logs/*.log | head -1
echo "== XGBoost 1.7, same model on the same training rows (1 thread: two OpenMP threads were ~10x slower on the busy shared machine)"
# The fit as a program text, not a here-document: a command run in the background (stoppable) reads /dev/null.
IFS= read -r -d '' fit <<'PY' || true
import sys, time
import numpy as np
from xgboost import XGBClassifier
d = np.genfromtxt(sys.argv[1], delimiter=",", skip_header=1)
x, y = d[:, :-1], (d[:, -1] == 1).astype(int)
clock = time.perf_counter()
XGBClassifier(n_estimators=300, max_depth=6, learning_rate=0.1, tree_method="hist", n_jobs=1).fit(x, y)
print(f"XGBoost fit on {len(y)} rows: {time.perf_counter() - clock:.3f}s")
PY
stoppable "$python" -c "$fit" "$(ls "$work"/Artifacts/*/data_ingestion/train.csv)"

#!/usr/bin/env bash
# The accuracy comparison, re-runnable by anyone: the product's own `evaluate` on 80/20 splits (stratified and
# duplicate-aware) writes its exact rows and test probabilities, then peers.py trains RF-500 and the tuned XGBoost 1.7
# on exactly those rows and prints one paired table (F1, Brier, AUC, wins). Installs Debian's python3-sklearn and
# python3-xgboost when missing (idempotent).
#   bash scripts/bench/accuracy.sh [SEEDS (default 0-4)] [OUT (default Artifacts/accuracy)]
set -euo pipefail
cd "$(dirname "$0")/../.."
seeds="${1:-0-4}"
out="${2:-Artifacts/accuracy}"
python=/usr/bin/python3   # Debian's interpreter, where the apt packages live (not a pyenv shim)

if ! "$python" -c "import sklearn, xgboost" 2>/dev/null; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-sklearn python3-xgboost >/dev/null
fi

rm -rf "$out"
dotnet build -c Release src/NetworkSecurity.Api/NetworkSecurity.Api.csproj -v q -nologo >/dev/null
for split in stratified grouped; do
  echo "== evaluate --split $split --seeds $seeds"
  dotnet run -c Release --no-build --project src/NetworkSecurity.Api -- evaluate --split "$split" --seeds "$seeds" --write-splits "$out" --logs none
done
echo "== peers on the same rows ($out)"
OMP_NUM_THREADS=1 "$python" scripts/bench/peers.py "$out"

#!/usr/bin/env bash
# The accuracy comparison, re-runnable by anyone: the product's own `evaluate` on 80/20 splits (stratified and
# duplicate-aware) writes its exact rows and test probabilities, then peers.py trains RF-500 and the tuned XGBoost 1.7
# on exactly those rows and prints evaluate's table for every model (a row per seed and model, the same columns as
# evaluate's) and a paired summary (F1, Brier, AUC, wins). Installs Debian's python3-sklearn and python3-xgboost when
# missing (idempotent).
#   bash scripts/bench/accuracy.sh [SEEDS (default 0-4)] [OUT (default Artifacts/accuracy)] [DATA [SCHEMA]]
#   OUT keeps anything else: only its stratified/ and grouped/ folders, this script's own output, are replaced.
#   DATA is another labelled CSV to compare on (default the bundled data set), SCHEMA its schema (default
#   data_schema/schema.yaml), as evaluate's --data and --schema.
#   Relative OUT, DATA and SCHEMA are taken from the folder you run the script in; the default OUT is in the repository.
set -euo pipefail
# -h/--help prints the usage above and stops, before anything is installed, built, started or deleted.
case "${1:-}" in -h|--help) sed -n '2,/^set -euo/s/^# \{0,1\}//p' "$0"; exit 0;; esac
# Resolved before the cd below: `results` from /tmp went to (and replaced the splits of) <repository>/results.
out="${2:-}"
case "$out" in ""|/*) ;; *) out="$PWD/$out";; esac
# Another data set: Pipeline__DataPath=mine.csv was the only way, and it was read from the repository (after the cd),
# so a file beside the user was "Data file 'mine.csv' does not exist".
data="${3:-}" schema="${4:-}"
case "$data" in ""|/*) ;; *) data="$PWD/$data";; esac
case "$schema" in ""|/*) ;; *) schema="$PWD/$schema";; esac
cd "$(dirname "$0")/../.."
seeds="${1:-0-4}"
out="${out:-Artifacts/accuracy}"
python=/usr/bin/python3   # Debian's interpreter, where the apt packages live (not a pyenv shim)
usage() { echo "usage: bash scripts/bench/accuracy.sh [SEEDS like 0-4 or 1,3,7] [OUT folder] [DATA csv [SCHEMA yaml]]: $1" >&2; exit 2; }
[ $# -le 4 ] || usage "at most four arguments"
[[ "$seeds" =~ ^[0-9]+(-[0-9]+)?$|^[0-9]+(,[0-9]+)*$ ]] || usage "SEEDS '$seeds' is not a range or a list"
# What evaluate refuses (SeedRange), refused here too: evaluate said so only after the rm below had taken the earlier splits.
seed_ok() { [ ${#1} -le 10 ] && (( 10#$1 <= 2147483647 )); }
if [[ "$seeds" == *-* ]]; then
  from="${seeds%-*}" to="${seeds#*-}"
  seed_ok "$from" && seed_ok "$to" && (( 10#$from <= 10#$to && 10#$to - 10#$from < 10000 )) \
    || usage "SEEDS '$seeds' must run upwards, at most 10,000 seeds of at most 2147483647"
else
  IFS=, read -ra list <<< "$seeds"
  declare -A seen=()
  [ ${#list[@]} -le 10000 ] || usage "SEEDS '$seeds' has more than 10,000 seeds"
  for s in "${list[@]}"; do
    seed_ok "$s" || usage "SEEDS '$seeds': $s is over 2147483647"
    [ -z "${seen[$((10#$s))]:-}" ] || usage "SEEDS '$seeds' names seed $((10#$s)) twice"
    seen[$((10#$s))]=1
  done
fi
[ ! -e "$out" ] || [ -d "$out" ] || usage "OUT '$out' is not a folder"
[ -z "$data" ] || [ -f "$data" ] || usage "DATA '$data' is not a file"
[ -z "$schema" ] || [ -f "$schema" ] || usage "SCHEMA '$schema' is not a file"
inputs=()
[ -z "$data" ] || inputs+=(--data "$data")
[ -z "$schema" ] || inputs+=(--schema "$schema")
# Only the splits of an earlier run: `rm -rf "$out"` took the whole folder given, whatever else it held.
rm -rf "${out:?}/stratified" "${out:?}/grouped"

if ! "$python" -c "import sklearn, xgboost" 2>/dev/null; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-sklearn python3-xgboost >/dev/null
fi

. scripts/bench/build.sh
. scripts/bench/stoppable.sh
build_quietly accuracy.sh src/NetworkSecurity.Api/NetworkSecurity.Api.csproj
for split in stratified grouped; do
  echo "== evaluate --split $split --seeds $seeds"
  stoppable dotnet run -c Release --no-build --project src/NetworkSecurity.Api -- evaluate --split "$split" --seeds "$seeds" --write-splits "$out" --logs none "${inputs[@]}"
done
echo "== peers on the same rows ($out)"
stoppable env OMP_NUM_THREADS=1 "$python" scripts/bench/peers.py "$out"

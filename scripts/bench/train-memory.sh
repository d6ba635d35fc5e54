#!/usr/bin/env bash
# Training memory per row: for each row count, a CSV of the bundled rows repeated to that many rows, then a real, cold
# `train` process on it under /usr/bin/time -v; prints its peak resident memory and that divided by the rows (the
# process's own base of about 150 MB included). The grid is decision_tree + logistic_regression, so that millions of
# rows are searched in minutes; logistic regression takes a copy of each fold's training rows, as ML.NET's learners do.
# Usage: bash scripts/bench/train-memory.sh [ROWS...]   (default: 500000 1000000 2000000)
set -euo pipefail
# -h/--help prints the usage above and stops, before anything is built or written.
case "${1:-}" in -h|--help) sed -n '2,/^set -euo/s/^# \{0,1\}//p' "$0"; exit 0;; esac
for rows in "$@"; do
  [[ "$rows" =~ ^[1-9][0-9]{0,8}$ ]] || { echo "usage: bash scripts/bench/train-memory.sh [ROWS...]: each a row count from 1 to 999999999, not '$rows'" >&2; exit 2; }
done
[ $# -gt 0 ] || set -- 500000 1000000 2000000
cd "$(dirname "$0")/../.."
. scripts/bench/build.sh
build_quietly train-memory.sh src/NetworkSecurity.Api/NetworkSecurity.Api.csproj

work=$(mktemp -d)
train=
# Stopped (Ctrl+C, SIGTERM, a closed terminal), the script stops the train under way and waits for it before removing
# the folder: removed first, the train ran on and wrote its run into a folder left behind.
cleanup() {
  if [ -n "$train" ]; then pkill -TERM -P "$train" 2>/dev/null || true; wait "$train" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP
printf 'learners:\n  decision_tree:\n    criterion: [gini]\n  logistic_regression:\n    c: [1.0]\n' > "$work/grid.yaml"
echo "| rows | peak resident | per row | wall |"
echo "|---|---|---|---|"
for rows in "$@"; do
  awk -v n="$rows" 'NR == 1 { print; next } { r[++c] = $0 } END { for (i = 0; i < n; i++) print r[(i % c) + 1] }' Network_Data/phisingData.csv > "$work/data.csv"
  # The program itself, not `dotnet run`, so the peak measured is the training process's.
  /usr/bin/time -v -o "$work/time.txt" dotnet src/NetworkSecurity.Api/bin/Release/net10.0/NetworkSecurity.Api.dll train --data "$work/data.csv" --grid "$work/grid.yaml" \
    --artifacts "$work/Artifacts" --final-model "$work/final_model" --logs none "--MLFLOW_TRACKING_URI=$work/mlruns" >/dev/null &
  # In the background and waited for, so a signal's trap runs at once rather than after the train.
  train=$!
  wait "$train"
  train=
  kb=$(awk -F': ' '/Maximum resident/ { print $2 }' "$work/time.txt")
  wall=$(awk -F': ' '/Elapsed \(wall/ { print $2 }' "$work/time.txt")
  echo "| $rows | $((kb / 1024)) MB | $((kb * 1024 / rows)) bytes | $wall |"
  rm -rf "$work/Artifacts" "$work/final_model" "$work/data.csv"
done

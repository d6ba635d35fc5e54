#!/usr/bin/env bash
# Load test of a running API on loopback (start it first: dotnet run -c Release --project src/NetworkSecurity.Api).
# Needs wrk (apt-get install wrk). Bounded: fixed durations and request counts, 127.0.0.1 only.
set -euo pipefail
cd "$(dirname "$0")/../.."
url=${1:-http://127.0.0.1:8080}
command -v wrk >/dev/null || { echo "wrk is not installed: apt-get install wrk" >&2; exit 2; }

echo "== POST /predict/json, one record, 32 connections, 2 threads, 20 s"
wrk -t2 -c32 -d20s --latency -s scripts/bench/predict-json.lua "$url/predict/json"

for accept in application/json text/html; do
  echo "== POST /predict with the 11,055-row CSV, Accept: $accept (20 sequential requests)"
  for i in $(seq 1 20); do
    curl -s -o /dev/null -w "%{time_total}\n" -H "Accept: $accept" -H "Content-Type: text/csv" \
      --data-binary @Network_Data/phisingData.csv "$url/predict"
  done | sort -n | awk '{a[NR]=$1} END {printf "median %.0f ms, max %.0f ms\n", a[int((NR+1)/2)]*1000, a[NR]*1000}'
done

pid=$(pgrep -f "bin/.*/NetworkSecurity.Api( |$)" | head -1 || true)
if [ -n "$pid" ]; then
  echo "== memory: RSS before and after 10,000 more requests"
  grep VmRSS /proc/$pid/status
  wrk -t2 -c32 -d30s -s scripts/bench/predict-json.lua "$url/predict/json" >/dev/null
  grep -E "VmRSS|VmHWM" /proc/$pid/status
fi

#!/usr/bin/env bash
# Load test of a running API on loopback (start it first: dotnet run -c Release --project src/NetworkSecurity.Api).
# Installs wrk (Debian package) when missing, once the service answers ready. Bounded: fixed durations and request
# counts, 127.0.0.1 only.
# Usage: bash scripts/bench/api.sh [URL of the running service on this machine: 127.0.0.1, localhost or [::1] (default http://127.0.0.1:8080)]
set -euo pipefail
# -h/--help prints the usage above and stops, before anything is installed, built, started or deleted.
case "${1:-}" in -h|--help) sed -n '2,/^set -euo/s/^# \{0,1\}//p' "$0"; exit 0;; esac
cd "$(dirname "$0")/../.."
url=${1:-http://127.0.0.1:8080}
# Loopback only, as promised above: another host was loaded too, and the memory figures came from whichever process
# of this machine listened on that port.
[[ $# -le 1 && "$url" =~ ^https?://(127\.0\.0\.1|localhost|\[::1\])(:[0-9]+)?/?$ ]] \
  || { echo "usage: bash scripts/bench/api.sh [URL of a service on this machine, like http://127.0.0.1:8080], not '$*'" >&2; exit 2; }
url=${url%/}
# A service without a model answers 503 at once: its "req/s" and CSV medians were printed as if measured.
ready=$(curl -s -o /dev/null -w "%{http_code}" "$url/health/ready" || true)
[ "$ready" = 200 ] || { echo "the service at $url is not ready (GET /health/ready answered ${ready/#000/nothing}, not 200): start it with a trained model" >&2; exit 1; }
# Installed as api-vs-mlnet.sh installs it: this script stopped with "wrk is not installed" (exit 2, a usage error).
if ! command -v wrk >/dev/null; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y --no-install-recommends wrk >/dev/null 2>&1 || { apt-get update -qq >/dev/null; apt-get install -y --no-install-recommends wrk >/dev/null; }
  command -v wrk >/dev/null || { echo "wrk could not be installed (apt-get install wrk)" >&2; exit 1; }
fi

echo "== POST /predict/json, one record, 32 connections, 2 threads, 20 s"
wrk -t2 -c32 -d20s --latency -s scripts/bench/predict-json.lua "$url/predict/json"

for accept in application/json text/html; do
  echo "== POST /predict with the 11,055-row CSV, Accept: $accept (20 sequential requests)"
  for i in $(seq 1 20); do
    curl -s -o /dev/null -w "%{http_code} %{time_total}\n" -H "Accept: $accept" -H "Content-Type: text/csv" \
      --data-binary @Network_Data/phisingData.csv "$url/predict"
  done | sort -k2 -n | awk '$1 != 200 {bad = $1} {a[NR] = $2}
    END {if (bad) {print "POST /predict answered " bad ", not 200: no time printed" > "/dev/stderr"; exit 1}
         printf "median %.0f ms, max %.0f ms\n", a[int((NR+1)/2)]*1000, a[NR]*1000}'
done

# The process listening on the URL's port: a name match (pgrep -f NetworkSecurity.Api) took whichever service of that
# name came first, another checkout's on a shared machine.
hostport=${url#*://}
port=${hostport##*:}
[ "$port" != "$hostport" ] || { [[ "$url" == https* ]] && port=443 || port=80; }
pid=$(ss -ltnpH "sport = :$port" 2>/dev/null | grep -o 'pid=[0-9]*' | head -1 | cut -d= -f2 || true)
if [ -z "$pid" ]; then
  echo "== memory: skipped (no process of this machine found listening on port $port)"
else
  echo "== memory of process $pid: RSS before and after 30 s more of one-record requests"
  grep VmRSS /proc/$pid/status
  wrk -t2 -c32 -d30s -s scripts/bench/predict-json.lua "$url/predict/json" >/dev/null
  grep -E "VmRSS|VmHWM" /proc/$pid/status
fi

#!/usr/bin/env bash
# Paired benchmark: our API against the plain ML.NET serving app (../shared/peers/mlnet-api, copied to a temp folder).
# Both run on 127.0.0.1, one at a time, alternating over the rounds; wrk (Debian package) makes the load.
# Usage: bash scripts/bench/api-vs-mlnet.sh [rounds=3] [seconds=15]
#        API_VS_MLNET_PORT=n: our service on 127.0.0.1:n, the peer on n+1 (default 18391); PEER_DIR: the peer's folder.
# Prints: single-record /predict/json req/s and latency per round, the 11,055-row CSV median, idle memory, ratios.
set -euo pipefail
# -h/--help prints the usage above and stops, before anything is installed, built, started or deleted.
case "${1:-}" in -h|--help) sed -n '2,/^set -euo/s/^# \{0,1\}//p' "$0"; exit 0;; esac
cd "$(dirname "$0")/../.."
root=$PWD
rounds=${1:-3}
seconds=${2:-15}
# Checked before the builds and the training run: a bad value used to fail only when the rounds began, minutes later.
[[ $# -le 2 && "$rounds" =~ ^[1-9][0-9]*$ && "$seconds" =~ ^[1-9][0-9]*$ ]] \
  || { echo "usage: bash scripts/bench/api-vs-mlnet.sh [rounds=3] [seconds=15] (whole numbers above 0), not '$*'" >&2; exit 2; }
[[ "${API_VS_MLNET_PORT:-18391}" =~ ^[1-9][0-9]{0,4}$ ]] \
  || { echo "usage: bash scripts/bench/api-vs-mlnet.sh: API_VS_MLNET_PORT '${API_VS_MLNET_PORT}' is not a port number" >&2; exit 2; }
# A port in use: the service already there answered /health/ready and was measured in place of ours or the peer.
for p in "${API_VS_MLNET_PORT:-18391}" "$((${API_VS_MLNET_PORT:-18391} + 1))"; do
  if (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
    echo "port $p on 127.0.0.1 is already in use: set API_VS_MLNET_PORT (ours on it, the peer on the next) to free ports" >&2
    exit 1
  fi
done
peer_src=${PEER_DIR:-$root/../shared/peers/mlnet-api}
[ -d "$peer_src" ] || { echo "the ML.NET peer is not at $peer_src (set PEER_DIR)" >&2; exit 2; }
if ! command -v wrk >/dev/null; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y --no-install-recommends wrk >/dev/null 2>&1 || { apt-get update -qq >/dev/null; apt-get install -y --no-install-recommends wrk >/dev/null; }
fi

work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]:-}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

echo "== building (Release) in $work"
cp -r "$peer_src" "$work/peer"
. scripts/bench/build.sh
. scripts/bench/stoppable.sh
build_quietly api-vs-mlnet.sh "$work/peer" src/NetworkSecurity.Api
ours_dll=$root/src/NetworkSecurity.Api/bin/Release/net10.0/NetworkSecurity.Api.dll
peer_dll=$work/peer/bin/Release/net10.0/peer_mlnet_api.dll
data=$root/Network_Data/phisingData.csv

echo "== training our default model (search) into $work/final_model"
stoppable env -C "$work" dotnet "$ours_dll" train --logs none --final-model "$work/final_model" --artifacts "$work/Artifacts" \
  --MLFLOW_TRACKING_URI="$work/mlruns" >/dev/null

port_ours=${API_VS_MLNET_PORT:-18391}
port_peer=$((port_ours + 1))
start_ours() {
  (cd "$work" && Pipeline__FinalModelDirectory="$work/final_model" Api__TrainOnStartup=false Logging__Directory=none \
    exec dotnet "$ours_dll" --urls "http://127.0.0.1:$port_ours" >"$work/ours.log" 2>&1) &
  pids+=($!); echo $! >"$work/ours.pid"
  wait_ready "$port_ours"
}
start_peer() {
  (cd "$work" && exec dotnet "$peer_dll" --urls "http://127.0.0.1:$port_peer" --data "$data" --model "$work/peer_model.zip" >"$work/peer.log" 2>&1) &
  pids+=($!); echo $! >"$work/peer.pid"
  wait_ready "$port_peer"
}
wait_ready() {
  for _ in $(seq 1 240); do
    curl -fs -o /dev/null "http://127.0.0.1:$1/health/ready" && return 0
    sleep 0.5
  done
  echo "service on port $1 did not become ready; its log:" >&2
  tail -20 "$work/ours.log" "$work/peer.log" 2>/dev/null >&2 || true
  exit 1
}
rss_mb() { awk '/VmRSS/ {printf "%.0f", $2/1024}' "/proc/$1/status"; }
pid_of() { cat "$work/$1.pid"; }

run_wrk() { # $1 port → "rps p50ms p99ms"
  wrk -t2 -c32 -d"${seconds}s" --latency -s scripts/bench/predict-json.lua "http://127.0.0.1:$1/predict/json" >"$work/wrk.txt"
  awk '/Requests\/sec/ {rps=$2} /^ +50%/ {p50=$2} /^ +99%/ {p99=$2} END {print rps, p50, p99}' "$work/wrk.txt"
}
csv_median() { # $1 url → median ms over 10 sequential requests, and the answer's bytes
  # A refusal (413, 503, ...) answers fast and small: timed, it read as a speed-up. Every answer must be a 200.
  local ms
  ms=$(for _ in $(seq 1 10); do
         curl -s -o "$work/answer" -w "%{http_code} %{time_total}\n" -H "Accept: application/json" -H "Content-Type: text/csv" --data-binary @"$data" "$1"
       done | awk -v url="$1" '$1 != 200 {print "api-vs-mlnet.sh: " url " answered " $1 " to the CSV, not 200: nothing to time" > "/dev/stderr"; exit 1} {print $2}' \
         | sort -n | awk '{a[NR]=$1} END {if (NR < 10) exit 1; printf "%.0f", a[int((NR+1)/2)]*1000}') || return 1
  printf "%s %s\n" "$ms" "$(stat -c %s "$work/answer")"
}

start_ours; sleep 2; ours_idle=$(rss_mb "$(pid_of ours)"); kill "$(cat "$work/ours.pid")"; wait "$(cat "$work/ours.pid")" 2>/dev/null || true
start_peer; sleep 2; peer_idle=$(rss_mb "$(pid_of peer)"); kill "$(cat "$work/peer.pid")"; wait "$(cat "$work/peer.pid")" 2>/dev/null || true

declare -a ours_rps peer_rps
printf "\n| round | service | req/s | p50 | p99 |\n|---|---|---|---|---|\n"
for r in $(seq 1 "$rounds"); do
  for who in peer ours; do
    "start_$who"
    port=$([ "$who" = ours ] && echo $port_ours || echo $port_peer)
    wrk -t2 -c32 -d5s -s scripts/bench/predict-json.lua "http://127.0.0.1:$port/predict/json" >/dev/null # warm-up
    read -r rps p50 p99 < <(run_wrk "$port")
    printf "| %s | %s | %s | %s | %s |\n" "$r" "$who" "$rps" "$p50" "$p99"
    if [ "$who" = ours ]; then ours_rps+=("$rps"); else peer_rps+=("$rps"); fi
    if [ "$r" = 1 ]; then
      if [ "$who" = ours ]; then
        csv_median "http://127.0.0.1:$port/predict" >"$work/csv" || exit 1; read -r ours_csv ours_bytes <"$work/csv"
        csv_median "http://127.0.0.1:$port/predict?echo=false" >"$work/csv" || exit 1; read -r ours_compact ours_compact_bytes <"$work/csv"
      else
        csv_median "http://127.0.0.1:$port/predict" >"$work/csv" || exit 1; read -r peer_csv peer_bytes <"$work/csv"
      fi
    fi
    kill "$(cat "$work/$who.pid")"; wait "$(cat "$work/$who.pid")" 2>/dev/null || true
  done
done

median() { printf "%s\n" "$@" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
om=$(median "${ours_rps[@]}"); pm=$(median "${peer_rps[@]}")
printf "\n| measure | ours | ML.NET baseline | ratio |\n|---|---|---|---|\n"
awk -v o="$om" -v p="$pm" 'BEGIN {printf "| /predict/json one record, median req/s | %.0f | %.0f | %.2f× |\n", o, p, o/p}'
awk -v o="$ours_csv" -v p="$peer_csv" -v ob="$ours_bytes" -v pb="$peer_bytes" 'BEGIN {printf "| /predict 11,055-row CSV → JSON, median ms (answer bytes) | %d (%d) | %d (%d) | %.2f× faster |\n", o, ob, p, pb, p/o}'
awk -v o="$ours_compact" -v p="$peer_csv" -v ob="$ours_compact_bytes" -v pb="$peer_bytes" 'BEGIN {printf "| same, compact answer (?echo=false), median ms (bytes) | %d (%d) | %d (%d) | %.2f× faster |\n", o, ob, p, pb, p/o}'
printf "| idle memory (RSS after start) | %s MB | %s MB | %+d MB |\n" "$ours_idle" "$peer_idle" "$((ours_idle - peer_idle))"

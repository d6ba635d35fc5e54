#!/usr/bin/env bash
# Hostile-input benchmark: uploads hostile files to a fresh service per case and prints, per case, the answer, the
# time and the growth of the process's peak RSS (VmHWM, reset after warm-up) over its warm idle RSS.
# Bounded: generated files in a temp folder, 127.0.0.1 only, every service started here is stopped by its PID.
# Usage: bash scripts/bench/hostile.sh [final_model folder]   (without one, a gbdt model is trained into the temp folder)
#        HOSTILE_CASES='regex' runs only the cases whose name matches; HOSTILE_KEEP=1 keeps the generated files;
#        HOSTILE_PORT=n is the services' port on 127.0.0.1 (default 18093).
# "service CPU" is the service's user+system CPU time for the case: steadier than wall time on a shared machine.
set -euo pipefail
# -h/--help prints the usage above and stops, before anything is installed, built, started or deleted.
case "${1:-}" in -h|--help) sed -n '2,/^set -euo/s/^# \{0,1\}//p' "$0"; exit 0;; esac
cd "$(dirname "$0")/../.."
root=$(pwd)
# A folder given must hold a promoted model (CURRENT): anything else, '--help' too, was used as the model folder.
[[ $# -le 1 && ( $# -eq 0 || -f "${1:-}/CURRENT" ) ]] \
  || { echo "usage: bash scripts/bench/hostile.sh [final_model folder with a CURRENT file], not '$*'" >&2; exit 2; }
port=${HOSTILE_PORT:-18093}
[[ "$port" =~ ^[1-9][0-9]{0,4}$ && "$port" -le 65535 ]] \
  || { echo "usage: bash scripts/bench/hostile.sh: HOSTILE_PORT '$port' is not a port number (1-65535)" >&2; exit 2; }
url="http://127.0.0.1:$port"
# A port in use: the service started here could not listen, the one already there was measured, and the run ended on
# "/proc/<pid>/clear_refs: No such file or directory".
if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
  echo "port $port on 127.0.0.1 is already in use: set HOSTILE_PORT to a free port" >&2
  exit 1
fi
# Generated files (and the model trained for them) are kept between runs only with HOSTILE_KEEP=1, in a folder of this
# checkout's own: a shared one let concurrent runs delete each other's files and served another checkout's model.
if [ "${HOSTILE_KEEP:-0}" = 1 ]; then
  work=/tmp/ns-hostile-files-$(printf %s "$root" | sha256sum | cut -c1-12)
  mkdir -p "$work"
else
  work=$(mktemp -d -t ns-hostile.XXXXXX)
fi
pid=""
cleanup() {
  if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
  [ "${HOSTILE_KEEP:-0}" = 1 ] || rm -rf "$work"
}
trap cleanup EXIT

. scripts/bench/build.sh
. scripts/bench/stoppable.sh
build_quietly hostile.sh src/NetworkSecurity.Api/NetworkSecurity.Api.csproj
app=src/NetworkSecurity.Api/bin/Release/net10.0/NetworkSecurity.Api.dll
models=${1:-}
if [ -z "$models" ] && [ -f "$work/final_model/CURRENT" ]; then
  models="$work/final_model"
elif [ -z "$models" ]; then
  models="$work/final_model"
  stoppable dotnet "$app" train --mode gbdt --final-model "$models" --artifacts "$work/Artifacts" --logs none \
    "--MLFLOW_TRACKING_URI=$work/mlruns" >/dev/null
fi

[ -f "$work/explain-1mb.csv" ] || { echo "generating hostile files in $work" >&2; python3 - "$work" <<'PY'; }
import json, random, sys
w = sys.argv[1]
lines = open("Network_Data/phisingData.csv").read().split("\n")
header, rows = lines[0], [l for l in lines[1:] if l]
features = header.split(",")[:30]
open(f"{w}/header-commas.csv", "w").write("," * (48 * 1024 * 1024) + "\n1\n")
open(f"{w}/long-line.csv", "w").write(header + "\n" + rows[0] + "," + "9" * (40 * 1024 * 1024) + "\n")
with open(f"{w}/empty-1m.csv", "w") as f:
    f.write(header + "\n")
    f.write(("," * 30 + "\n") * 1_000_000)
random.seed(1)
with open(f"{w}/missing3-100k.csv", "w") as f:
    f.write(header + "\n")
    for i in range(100_000):
        cells = rows[i % len(rows)].split(",")
        for c in random.sample(range(30), 3):
            cells[c] = ""
        f.write(",".join(cells) + "\n")
open(f"{w}/full-100k.csv", "w").write(header + "\n" + "\n".join(rows[i % len(rows)] for i in range(100_000)) + "\n")
big = []
size = 0
while size < 49 * 1024 * 1024:
    big.append(rows[len(big) % len(rows)])
    size += len(big[-1]) + 1
open(f"{w}/ordinary-49mb.csv", "w").write(header + "\n" + "\n".join(big) + "\n")
null_record = "{" + ",".join(f'"{f}":null' for f in features) + "}"
n = (16 * 1024 * 1024 - 64) // (len(null_record) + 1)
open(f"{w}/nulls-16mb.json", "w").write('{"records":[' + ",".join([null_record] * n) + "]}")
record = "{" + ",".join(f'"{f}":1' for f in features) + "}"
n = (16 * 1024 * 1024 - 64) // (len(record) + 1)
open(f"{w}/records-16mb.json", "w").write('{"records":[' + ",".join([record] * n) + "]}")
open(f"{w}/records-49mb.json", "w").write('{"records":[' + ",".join([record] * (n * 3)) + "]}")
body = b'--other\r\nContent-Disposition: form-data; name="file"; filename="a.csv"\r\n\r\n' + "\n".join(lines[:100]).encode() + b"\r\n--other--\r\n"
open(f"{w}/wrong-boundary.bin", "wb").write(body)
# A 49 MB quoted cell in 100-character lines: short physical lines, one logical line.
open(f"{w}/quoted-cell.csv", "w").write(header + "\n\"" + ("x" * 99 + "\n") * (49 * 1024 * 1024 // 100) + "\"" + ",1" * 30 + "\n")
open(f"{w}/bad-utf8.json", "wb").write(b'{"records":[{"having_IP_Address":"\xff\xfe"}]}')
# Just under 1 MiB of distinct rows (no two share an explanation), for explain=all: small, but costly to explain.
with open(f"{w}/explain-1mb.csv", "w") as f:
    f.write(header + "\n")
    size = len(header) + 1
    while size < 1_040_000:
        line = ",".join(random.choice(["-1", "0", "1"]) for _ in range(30)) + ",1\n"
        f.write(line)
        size += len(line)
PY

start_service() {
  dotnet "$app" --urls "$url" "--Pipeline:FinalModelDirectory=$models" --Logging:Directory=none \
    --Api:TrainOnStartup=false --Serilog:MinimumLevel:Default=Warning >"$work/service.log" 2>&1 &
  pid=$!
  for _ in $(seq 1 100); do
    curl -sf -o /dev/null "$url/health/ready" && break
    sleep 0.2
  done
  if ! kill -0 "$pid" 2>/dev/null || ! curl -sf -o /dev/null "$url/health/ready"; then
    echo "the service on port $port did not start or is not ready; its log:" >&2
    tail -20 "$work/service.log" >&2
    exit 1
  fi
  # Warm up (JIT, first model use), then reset the peak so it measures only the case.
  curl -s -o /dev/null -H "Content-Type: text/csv" -H "Accept: application/json" --data-binary @Network_Data/phisingData.csv "$url/predict"
  sleep 1
  echo 5 > "/proc/$pid/clear_refs"
  idle=$(awk '/VmRSS/ {print $2}' "/proc/$pid/status")
}

stop_service() {
  kill "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  pid=""
}

# run_case "name" copies target curl-args...   (copies = how many identical requests run at once)
cpu_seconds() { awk -v hz="$(getconf CLK_TCK)" '{printf "%.2f", ($14 + $15) / hz}' "/proc/$pid/stat"; }

run_case() {
  local name=$1 copies=$2 target=$3
  shift 3
  if [ -n "${HOSTILE_CASES:-}" ] && ! [[ "$name" =~ $HOSTILE_CASES ]]; then return; fi
  start_service
  local cpu0
  cpu0=$(cpu_seconds)
  local t0 t1 statuses curls=()
  t0=$(date +%s.%N)
  for i in $(seq 1 "$copies"); do
    curl -s -o /dev/null -w "%{http_code}\n" "$@" >"$work/status.$i" &
    curls+=($!)
  done
  wait "${curls[@]}" || true
  t1=$(date +%s.%N)
  statuses=$(cat "$work"/status.* | sort | uniq -c | awk '{printf "%s%s×%s", sep, $2, $1; sep=" "}')
  rm -f "$work"/status.*
  local peak
  peak=$(awk '/VmHWM/ {print $2}' "/proc/$pid/status")
  printf "| %s | %s | %s | %.2f | %.2f | %d | %s |\n" "$name" "$copies" "$statuses" "$(awk "BEGIN {print $t1 - $t0}")" \
    "$(awk "BEGIN {print $(cpu_seconds) - $cpu0}")" $(((peak - idle) / 1024)) "$target"
  stop_service
}

echo "| case | at once | answers | time (s) | service CPU (s) | peak RSS growth (MB) | target |"
echo "|---|---|---|---|---|---|---|"
run_case "48 MB header of commas" 1 "413, ≤ 300 MB" -H "Content-Type: text/csv" --data-binary "@$work/header-commas.csv" "$url/predict"
run_case "48 MB header of commas" 4 "413, ≤ 1.2 GB" -H "Content-Type: text/csv" --data-binary "@$work/header-commas.csv" "$url/predict"
run_case "40 MB line" 1 "413, ≤ 300 MB" -H "Content-Type: text/csv" --data-binary "@$work/long-line.csv" "$url/predict"
run_case "49 MB quoted cell in short lines" 1 "413, ≤ 300 MB" -H "Content-Type: text/csv" --data-binary "@$work/quoted-cell.csv" "$url/predict"
run_case "49 MB quoted cell in short lines" 4 "413, ≤ 1.2 GB" -H "Content-Type: text/csv" --data-binary "@$work/quoted-cell.csv" "$url/predict"
run_case "1,000,000 all-empty rows (31 MB)" 1 "400 within 5 s" -H "Content-Type: text/csv" --data-binary "@$work/empty-1m.csv" "$url/predict"
run_case "100,000 rows, 3 missing cells each" 1 "200 within 2 s" -H "Accept: application/json" -H "Content-Type: text/csv" --data-binary "@$work/missing3-100k.csv" "$url/predict"
run_case "100,000 complete rows (reference for the above)" 1 "200" -H "Accept: application/json" -H "Content-Type: text/csv" --data-binary "@$work/full-100k.csv" "$url/predict"
run_case "49 MB ordinary CSV (JSON answer)" 1 "200, ≤ 300 MB" -H "Accept: application/json" -H "Content-Type: text/csv" --data-binary "@$work/ordinary-49mb.csv" "$url/predict"
run_case "49 MB ordinary CSV (JSON answer)" 4 "200, ≤ 1.2 GB" -H "Accept: application/json" -H "Content-Type: text/csv" --data-binary "@$work/ordinary-49mb.csv" "$url/predict"
run_case "49 MB ordinary CSV (JSON answer)" 8 "200, ≤ 1.2 GB (4 scored at a time)" -H "Accept: application/json" -H "Content-Type: text/csv" --data-binary "@$work/ordinary-49mb.csv" "$url/predict"
run_case "49 MB ordinary CSV (JSON answer)" 24 "200 or 503, ≤ 1.2 GB (400 MiB in flight)" -H "Accept: application/json" -H "Content-Type: text/csv" --data-binary "@$work/ordinary-49mb.csv" "$url/predict"
run_case "1 MiB of distinct rows, explain=all" 30 "200 or 503, ≤ 1.2 GB (scored in slots)" -H "Accept: application/json" -H "Content-Type: text/csv" --data-binary "@$work/explain-1mb.csv" "$url/predict?explain=all"
run_case "16 MB of JSON nulls" 1 "400, ≤ 300 MB" -H "Content-Type: application/json" --data-binary "@$work/nulls-16mb.json" "$url/predict/json"
run_case "16 MB of JSON records (at the limit)" 1 "200, ≤ 300 MB" -H "Content-Type: application/json" --data-binary "@$work/records-16mb.json" "$url/predict/json"
run_case "16 MB of JSON records (at the limit)" 4 "200, ≤ 1.2 GB" -H "Content-Type: application/json" --data-binary "@$work/records-16mb.json" "$url/predict/json"
run_case "49 MB of JSON records" 1 "413, ≤ 300 MB" -H "Content-Type: application/json" --data-binary "@$work/records-49mb.json" "$url/predict/json"
run_case "multipart, wrong boundary" 1 "400" -H "Content-Type: multipart/form-data; boundary=expected" --data-binary "@$work/wrong-boundary.bin" "$url/predict"
run_case "JSON with invalid UTF-8 in a string" 1 "400" -H "Content-Type: application/json" --data-binary "@$work/bad-utf8.json" "$url/predict/json"

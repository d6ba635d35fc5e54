#!/usr/bin/env bash
# Runs every test: installs what the tests need (idempotent), then dotnet test on the whole solution.
# Usage: bash scripts/test.sh [extra dotnet test arguments]
set -euo pipefail
# -h/--help prints the usage above and stops: it was passed to dotnet test after the prerequisites were installed and
# the last run's TestResults removed.
case "${1:-}" in -h|--help) sed -n '2,/^set -euo/s/^# \{0,1\}//p' "$0"; exit 0;; esac
cd "$(dirname "$0")/.."

# Removed first: a prerequisite that failed left the last run's results, which .ci/run then counted as this run's.
rm -rf TestResults
for prereq in scripts/prereqs/*.sh; do
  [ -e "$prereq" ] || continue
  echo "== prerequisites: $prereq"
  bash "$prereq"
done

# In the background and waited for, so that SIGTERM or Ctrl+C stops dotnet test (it stops its test hosts) and waits for
# it: in the foreground, a SIGTERM ended this script alone and the tests ran on, orphaned, for minutes.
dotnet test NetworkSecurity.sln -c Release \
  --logger "trx;LogFilePrefix=tests" --logger "console;verbosity=minimal" \
  --results-directory TestResults "$@" &
tests=$!
trap 'kill -TERM "$tests" 2>/dev/null || true; wait "$tests" || true; exit 130' INT
trap 'kill -TERM "$tests" 2>/dev/null || true; wait "$tests" || true; exit 143' TERM
trap 'kill -TERM "$tests" 2>/dev/null || true; wait "$tests" || true; exit 129' HUP
wait "$tests"

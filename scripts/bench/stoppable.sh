# Sourced by the bench scripts: `stoppable <command>...` runs one long step (evaluate, train, a benchmark, a peer fit) in
# the background and waits for it, and Ctrl+C, SIGTERM or a closed terminal (SIGHUP) stop that step and every process it
# started (`dotnet run` and the program it runs) and wait for them before the script ends (exit 130, 143 or 129), so
# its EXIT trap removes its temporary folder only once nothing writes into it. Run in the foreground, a step outlived
# the script: `kill <script>` ended bash alone, and evaluate went on writing its splits, orphaned, for minutes.
stoppable_pid=
stoppable() {
  local code=0
  "$@" &
  stoppable_pid=$!
  wait "$stoppable_pid" || code=$?
  stoppable_pid=
  return "$code"
}

# The step and its descendants, each sent SIGTERM (the product stops within its current step, as for Ctrl+C), then
# waited for: up to 120 s, then SIGKILL.
stop_stoppable() {
  [ -n "$stoppable_pid" ] || return 0
  local tree=() queue=("$stoppable_pid") p
  while [ ${#queue[@]} -gt 0 ]; do
    p=${queue[0]}
    queue=("${queue[@]:1}")
    tree+=("$p")
    # shellcheck disable=SC2207 # pids: one word each
    queue+=($(ps -o pid= --ppid "$p" 2>/dev/null || true))
  done
  kill -TERM "${tree[@]}" 2>/dev/null || true
  local alive
  for _ in $(seq 1 600); do
    alive=0
    for p in "${tree[@]}"; do kill -0 "$p" 2>/dev/null && alive=1; done
    [ "$alive" = 1 ] || break
    sleep 0.2
  done
  kill -KILL "${tree[@]}" 2>/dev/null || true
  wait "$stoppable_pid" 2>/dev/null || true
  stoppable_pid=
}

trap 'stop_stoppable; exit 130' INT
trap 'stop_stoppable; exit 143' TERM
trap 'stop_stoppable; exit 129' HUP

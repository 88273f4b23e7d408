# Shared by the scripts that run one daemon of their own under the sluice cache (kafka.sh,
# minio.sh). The caller sets LOG, PID_FILE, HOST, START_TIMEOUT and defines log() and
# is_ready() (true once the daemon answers).

fail_with_log() {
  log "$*"
  if [[ -f "$LOG" ]]; then
    echo "--- last lines of $LOG ---" >&2
    tail -n 40 "$LOG" >&2
  fi
  exit 1
}

# The pid in PID_FILE, but only while that process's command line still contains every
# given fragment: pids get reused.
pid_matching() {
  [[ -f "$PID_FILE" ]] || return 1
  local pid
  pid=$(cat "$PID_FILE")
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  kill -0 "$pid" 2>/dev/null || return 1
  local cmdline fragment
  cmdline=$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null) || return 1
  for fragment in "$@"; do
    [[ "$cmdline" == *"$fragment"* ]] || return 1
  done
  echo "$pid"
}

port_taken() { (exec 3<>"/dev/tcp/$HOST/$1") 2>/dev/null; }

# Waits until is_ready, or fails when the process dies or START_TIMEOUT passes.
wait_ready() {
  local pid=$1 deadline=$((SECONDS + START_TIMEOUT))
  while (( SECONDS < deadline )); do
    is_ready && return 0
    kill -0 "$pid" 2>/dev/null || return 1
    sleep 0.1
  done
  return 1
}

# SIGTERM, then SIGKILL after `seconds`; removes PID_FILE.
terminate() {
  local pid=$1 seconds=$2 i
  kill "$pid"
  for i in $(seq 1 $((seconds * 10))); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$pid" 2>/dev/null; then
    log "pid $pid did not stop within ${seconds}s; killing it"
    kill -9 "$pid" 2>/dev/null || true
  fi
  rm -f "$PID_FILE"
  echo "stopped"
}

# Records the pid of a daemon just started in the background and waits until it answers;
# when it does not, kills it, forgets it and fails showing the log with `what_failed`.
record_started() {
  local pid=$1 what_failed=$2
  echo "$pid" >"$PID_FILE"
  if ! wait_ready "$pid"; then
    kill "$pid" 2>/dev/null || true
    rm -f "$PID_FILE"
    fail_with_log "$what_failed"
  fi
}

# Stops the daemon our_pid finds (only one this script started), within `seconds`.
stop_ours() {
  local pid
  if ! pid=$(our_pid); then
    rm -f "$PID_FILE"
    log "not running"
    return 0
  fi
  terminate "$pid" "$1"
}

#!/usr/bin/env bash
# A Prometheus Pushgateway for the integration tests: one instance per machine, started
# by us, recorded in a pid file so `stop` only ever kills the process we started.
#
#   scripts/pushgateway.sh install   apt-get install prometheus-pushgateway (if missing)
#   scripts/pushgateway.sh start     start or reuse; last stdout line is the URL
#   scripts/pushgateway.sh stop      stop the instance recorded in the pid file
#
# `start` exits with 3 when the binary is not installed (test/helpers/services.ts skips
# the test off CI and fails it on CI).
set -euo pipefail

BIN=prometheus-pushgateway
HOST=127.0.0.1
PORT=29091
URL="http://${HOST}:${PORT}"
STATE_DIR="${SLUICE_CACHE:-$HOME/.cache/sluice}/pushgateway"
PID_FILE="$STATE_DIR/pushgateway.pid"
LOG_FILE="$STATE_DIR/pushgateway.log"
NOT_INSTALLED=3

log() { echo "pushgateway: $*" >&2; }

# shellcheck source=lib/apt-install.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/apt-install.sh"

is_ready() {
  curl -fsS --max-time 2 "$URL/-/ready" >/dev/null 2>&1
}

# The pid in our file, but only if that process is still a pushgateway: pids get reused.
our_pid() {
  [ -f "$PID_FILE" ] || return 1
  local pid
  pid="$(cat "$PID_FILE")"
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  kill -0 "$pid" 2>/dev/null || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q "$BIN" || return 1
  echo "$pid"
}

install() {
  if command -v "$BIN" >/dev/null 2>&1; then
    log "already installed: $(command -v "$BIN")"
    return 0
  fi
  apt_install_quietly "$BIN"
  log "installed: $(command -v "$BIN")"
}

start() {
  if ! command -v "$BIN" >/dev/null 2>&1; then
    log "$BIN is not installed (run scripts/pushgateway.sh install)"
    exit "$NOT_INSTALLED"
  fi
  mkdir -p "$STATE_DIR"
  local pid
  if pid="$(our_pid)"; then
    if wait_ready 30; then
      echo "$URL"
      return 0
    fi
    log "pid $pid is running but $URL/-/ready does not answer; see $LOG_FILE"
    exit 1
  fi
  if is_ready; then
    log "something else already listens on $URL; not ours, refusing to use or stop it"
    exit 1
  fi
  # setsid + redirected stdio: the caller (execFile in the tests) must not wait on our
  # pipes, and the daemon must outlive this script.
  setsid "$BIN" --web.listen-address="${HOST}:${PORT}" >>"$LOG_FILE" 2>&1 </dev/null &
  echo $! >"$PID_FILE"
  if ! wait_ready 30; then
    log "did not become ready within 30s; last log lines:"
    tail -n 20 "$LOG_FILE" >&2 || true
    stop >/dev/null 2>&1 || true
    exit 1
  fi
  log "started pid $(cat "$PID_FILE"), log $LOG_FILE"
  echo "$URL"
}

wait_ready() {
  local deadline=$((SECONDS + $1))
  while [ "$SECONDS" -lt "$deadline" ]; do
    if is_ready; then return 0; fi
    sleep 0.2
  done
  return 1
}

stop() {
  local pid
  if ! pid="$(our_pid)"; then
    rm -f "$PID_FILE"
    log "not running"
    return 0
  fi
  kill "$pid"
  for _ in $(seq 1 50); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$pid" 2>/dev/null; then kill -9 "$pid" 2>/dev/null || true; fi
  rm -f "$PID_FILE"
  log "stopped pid $pid"
}

case "${1:-}" in
  install) install ;;
  start) start ;;
  stop) stop ;;
  *)
    echo "usage: $0 install|start|stop" >&2
    exit 2
    ;;
esac

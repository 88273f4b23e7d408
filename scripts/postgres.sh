#!/usr/bin/env bash
# A throwaway PostgreSQL for tests: one instance per machine, kept under the sluice cache,
# listening on 127.0.0.1:25432 only (below the kernel's ephemeral range, 32768-60999, where a
# test's outgoing connection could hold the port). Never touches the distribution's own clusters.
#
#   install   apt-get install postgresql, unless some version is already installed
#   start     start it (or find it running) and print its URL as the last stdout line;
#             exit 3 when PostgreSQL is not installed, so local test runs can skip
#   stop      stop it, unless another test run still has clients connected (--force to insist)
set -euo pipefail

PORT=25432
URL="postgres://sluice:sluice@127.0.0.1:$PORT/sluice"
NOT_INSTALLED=3
CACHE="${SLUICE_CACHE:-$HOME/.cache/sluice}/postgres"
DATA="$CACHE/data"
SOCKETS="$CACHE/run"
LOG="$CACHE/postgres.log"

die() { echo "postgres.sh: $*" >&2; exit 1; }

fail_with_log() {
  echo "postgres.sh: $*" >&2
  if [[ -f "$LOG" ]]; then
    echo "--- last lines of $LOG ---" >&2
    tail -n 40 "$LOG" >&2
  fi
  exit 1
}

# The binaries matching an existing data directory win: a newer major version cannot
# open an older cluster.
find_bin() {
  local bin
  if [[ -f "$DATA/PG_VERSION" ]]; then
    bin="/usr/lib/postgresql/$(cat "$DATA/PG_VERSION")/bin"
  else
    bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
  fi
  [[ -n "$bin" && -x "$bin/pg_ctl" && -x "$bin/initdb" ]] || return 1
  echo "$bin"
}

# PostgreSQL refuses to run as root; as root everything runs as the postgres system user.
as_pg() {
  if [[ $EUID -eq 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi
}

prepare_dirs() {
  mkdir -p "$SOCKETS"
  touch "$LOG"
  if [[ $EUID -eq 0 ]]; then
    id postgres >/dev/null 2>&1 || die "running as root needs the 'postgres' system user (installed with the package)"
    chown -R postgres: "$CACHE"
    # The server must be able to reach its data directory through every parent
    # (e.g. /root is 0700): grant traverse only, never read.
    local dir
    dir=$(dirname "$CACHE")
    while [[ "$dir" != "/" ]]; do
      if ! runuser -u postgres -- test -x "$dir"; then
        chmod o+x "$dir"
        echo "postgres.sh: allowed others to traverse $dir so the postgres user can reach $CACHE" >&2
      fi
      dir=$(dirname "$dir")
    done
  fi
  chmod 700 "$SOCKETS"
  cd "$CACHE"
}

running() { as_pg "$BIN/pg_ctl" -D "$DATA" status >/dev/null 2>&1; }

psql_local() { as_pg "$BIN/psql" -X -q -h "$SOCKETS" -p "$PORT" -U sluice "$@"; }

init_cluster() {
  rm -rf "$DATA" # only ever a half-made cluster here: PG_VERSION is missing
  local pwfile="$CACHE/pwfile"
  printf 'sluice\n' >"$pwfile"
  [[ $EUID -eq 0 ]] && chown postgres: "$pwfile"
  chmod 600 "$pwfile"
  if ! as_pg "$BIN/initdb" -D "$DATA" -U sluice --pwfile="$pwfile" -E UTF8 --locale=C \
      --auth-local=trust --auth-host=scram-sha-256 --no-sync --no-instructions >"$LOG" 2>&1; then
    rm -f "$pwfile"
    fail_with_log "initdb failed"
  fi
  rm -f "$pwfile"
  echo "include_if_exists = 'sluice.conf'" >>"$DATA/postgresql.conf"
}

# Rewritten on every start so a moved cache directory is picked up. Durability is
# traded for speed: this cluster only ever holds test data.
write_config() {
  as_pg tee "$DATA/sluice.conf" >/dev/null <<CONF
listen_addresses = '127.0.0.1'
port = $PORT
unix_socket_directories = '$SOCKETS'
fsync = off
synchronous_commit = off
full_page_writes = off
max_connections = 200
CONF
}

ensure_database() {
  local exists
  exists=$(psql_local -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = 'sluice'") \
    || fail_with_log "cannot connect through $SOCKETS"
  if [[ "$exists" != 1 ]]; then
    psql_local -d postgres -c 'CREATE DATABASE sluice' >/dev/null || fail_with_log "cannot create database sluice"
  fi
}

cmd_install() {
  if bin=$(find_bin); then
    echo "PostgreSQL is already installed ($bin)"
    return
  fi
  local sudo=()
  [[ $EUID -eq 0 ]] || sudo=(sudo)
  export DEBIAN_FRONTEND=noninteractive
  "${sudo[@]}" apt-get install -y postgresql || { "${sudo[@]}" apt-get update && "${sudo[@]}" apt-get install -y postgresql; }
  find_bin >/dev/null || die "postgresql was installed but no binaries were found under /usr/lib/postgresql/*/bin"
}

cmd_start() {
  if ! BIN=$(find_bin); then
    echo "postgres.sh: PostgreSQL is not installed here (run scripts/postgres.sh install)" >&2
    exit "$NOT_INSTALLED"
  fi
  mkdir -p "$CACHE"
  # Test files start in parallel; one of them initialises and starts, the rest wait.
  exec 9>"$CACHE/lock"
  flock -w 240 9 || die "timed out waiting for another postgres.sh on $CACHE/lock"
  prepare_dirs
  if ! running; then
    [[ -f "$DATA/PG_VERSION" ]] || init_cluster
    write_config
    as_pg truncate -s 0 "$LOG" 2>/dev/null || true
    local out
    # 9>&-: the server outlives this script and must not inherit (and hold) the lock.
    out=$(as_pg "$BIN/pg_ctl" -D "$DATA" -l "$LOG" -w -t 60 start 2>&1 9>&-) \
      || fail_with_log "the server did not start (is port $PORT taken?): $out"
  fi
  "$BIN/pg_isready" -q -h 127.0.0.1 -p "$PORT" -t 30 || fail_with_log "the server does not accept TCP connections on 127.0.0.1:$PORT"
  ensure_database
  echo "$URL"
}

cmd_stop() {
  BIN=$(find_bin) || return 0
  [[ -f "$DATA/PG_VERSION" ]] || return 0
  cd /
  running || return 0
  if [[ "${1:-}" != "--force" ]]; then
    # Backends of a test run that just ended can take a moment to leave pg_stat_activity.
    local others=0 try
    for try in 1 2 3 4; do
      others=$(psql_local -d postgres -tAc \
        "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()" \
        2>/dev/null || echo 0)
      [[ "$others" -gt 0 ]] || break
      [[ $try -lt 4 ]] && sleep 0.5
    done
    if [[ "$others" -gt 0 ]]; then
      echo "postgres.sh: $others client(s) still connected, leaving it running (stop --force to insist)" >&2
      return 0
    fi
  fi
  as_pg "$BIN/pg_ctl" -D "$DATA" -m fast -w -t 60 stop >/dev/null || fail_with_log "pg_ctl stop failed"
  echo "stopped"
}

case "${1:-}" in
  install) cmd_install ;;
  start) cmd_start ;;
  stop) shift; cmd_stop "$@" ;;
  *) echo "usage: $0 install|start|stop [--force]" >&2; exit 2 ;;
esac

#!/usr/bin/env bash
# A single-node MinIO (S3) server for tests, built from source with `go install`, so it
# needs only Go. One instance per machine under the sluice cache; listens on 127.0.0.1 only.
#
#   install   build MinIO into $CACHE/bin (skipped when that version is already there)
#   start     start it (or find it running) and print the endpoint URL as the last stdout line;
#             runs `install` first when the binary is missing; exit 3 when neither the binary
#             nor go exists, so local test runs can skip
#   stop      stop the server recorded in our pid file (only if that pid is still our server)
#
# Test credentials are fixed and known to the tests: access key `sluice`, secret key
# `sluice-secret` (MINIO_ROOT_USER / MINIO_ROOT_PASSWORD). They guard a throwaway server on
# loopback and are not secrets.
#
# The build takes several minutes on a cold cache; GOPATH and GOCACHE live under $CACHE,
# so a rebuild (a new version) reuses what it can.
set -euo pipefail

MODULE=github.com/minio/minio
# The last commit of minio/minio (the repository was archived in February 2026). The Go
# module proxy serves it as the module's latest version; see
# docs/decisions/0008-minio-from-source.md for why this is not a RELEASE.* tag.
MINIO_VERSION=v0.0.0-20260212201848-7aac2a2c5b7c

HOST=127.0.0.1
# Below the kernel's ephemeral range (32768-60999): an outgoing connection of a test can hold a
# port up there, and MinIO then fails to bind.
PORT=29000
CONSOLE_PORT=29001
URL="http://$HOST:$PORT"
ACCESS_KEY=sluice
SECRET_KEY=sluice-secret
NOT_INSTALLED=3
CACHE="${SLUICE_CACHE:-$HOME/.cache/sluice}/minio"
BIN_DIR="$CACHE/bin"
BIN="$BIN_DIR/minio"
DATA="$CACHE/data"
PID_FILE="$CACHE/minio.pid"
LOG="$CACHE/minio.log"
START_TIMEOUT=60

log() { echo "minio.sh: $*" >&2; }
# shellcheck source=lib/daemon.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/daemon.sh"
die() { log "$*"; exit 1; }

installed() { [[ -x "$BIN" && -f "$BIN_DIR/.version" && "$(cat "$BIN_DIR/.version")" == "$MINIO_VERSION" ]]; }

# Built into a temporary directory and moved into place only when complete, so an
# interrupted build is never mistaken for an installed binary.
cmd_install() {
  if installed; then
    log "MinIO $MINIO_VERSION is already installed in $BIN_DIR"
    return
  fi
  command -v go >/dev/null 2>&1 || { log "install needs go on PATH"; exit "$NOT_INSTALLED"; }
  mkdir -p "$CACHE"
  # Left by a build whose script was killed (a test runner's timeout); we hold the lock.
  rm -rf "$CACHE"/install.*
  local work started=$SECONDS
  work=$(mktemp -d "$CACHE/install.XXXXXX")
  log "building $MODULE@$MINIO_VERSION with $(go version | cut -d' ' -f3) (several minutes on a cold cache)"
  # CGO off: no C compiler needed, as in MinIO's own release builds. -modcacherw keeps the
  # module cache deletable with rm -rf. GOTOOLCHAIN=local: build with the installed Go,
  # never download another toolchain.
  if ! GOPATH="$CACHE/go" GOMODCACHE="$CACHE/go/pkg/mod" GOCACHE="$CACHE/go-build" GOBIN="$work" \
      GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS="-modcacherw -buildvcs=false" \
      go install -trimpath -ldflags="-s -w" "$MODULE@$MINIO_VERSION" >&2; then
    rm -rf "$work"
    die "go install $MODULE@$MINIO_VERSION failed"
  fi
  [[ -x "$work/minio" ]] || { rm -rf "$work"; die "go install finished but produced no minio binary"; }
  mkdir -p "$BIN_DIR"
  echo "$MINIO_VERSION" >"$work/.version"
  mv -f "$work/minio" "$BIN.new"
  mv -f "$BIN.new" "$BIN"
  mv -f "$work/.version" "$BIN_DIR/.version"
  rm -rf "$work"
  log "installed $BIN in $((SECONDS - started))s"
}

# Our server's pid, while the process under it is still our server.
our_pid() { pid_matching "$BIN server " " $DATA "; }

# GET /minio/health/ready over bash's /dev/tcp (no curl needed); 200 once the server
# accepts S3 requests.
is_ready() {
  local status
  status=$(timeout 3 bash -c '
    exec 3<>"/dev/tcp/$0/$1" || exit 1
    printf "GET /minio/health/ready HTTP/1.0\r\nHost: %s:%s\r\n\r\n" "$0" "$1" >&3
    head -n 1 <&3
  ' "$HOST" "$PORT" 2>/dev/null) || return 1
  [[ "$status" == "HTTP/1."?" 200"* ]]
}

cmd_start() {
  mkdir -p "$CACHE"
  # Test files start in parallel; one of them installs and starts, the rest wait.
  exec 9>"$CACHE/lock"
  flock -w 900 9 || die "timed out waiting for another minio.sh on $CACHE/lock"
  local pid
  if pid=$(our_pid); then
    if is_ready || wait_ready "$pid"; then
      echo "$URL"
      return 0
    fi
    fail_with_log "pid $pid is running but $URL/minio/health/ready does not answer"
  fi
  rm -f "$PID_FILE"
  if ! installed; then
    if [[ ! -x "$BIN" ]] && ! command -v go >/dev/null 2>&1; then
      log "MinIO is not built here and go is missing (run scripts/minio.sh install)"
      exit "$NOT_INSTALLED"
    fi
    # An older build still serves when go is gone; otherwise build the pinned version.
    if command -v go >/dev/null 2>&1; then cmd_install 9>&-; fi
  fi
  if port_taken "$PORT" || port_taken "$CONSOLE_PORT"; then
    die "port $PORT or $CONSOLE_PORT is taken by a process we did not start; refusing to use or stop it"
  fi
  mkdir -p "$DATA"
  : >"$LOG"
  # setsid and redirected stdio: the server outlives this script and must not hold the
  # caller's pipes (execFile in the tests waits for them) or our lock (9>&-). No update
  # checks or telemetry: the test machine may have no internet.
  MINIO_ROOT_USER="$ACCESS_KEY" MINIO_ROOT_PASSWORD="$SECRET_KEY" MINIO_UPDATE=off MINIO_CALLHOME_ENABLE=off \
    MINIO_BROWSER_REDIRECT=off \
    setsid "$BIN" server --address "$HOST:$PORT" --console-address "$HOST:$CONSOLE_PORT" "$DATA" \
    >>"$LOG" 2>&1 </dev/null 9>&- &
  pid=$!
  record_started "$pid" "MinIO did not answer $URL/minio/health/ready within ${START_TIMEOUT}s"
  log "started MinIO as pid $pid, data $DATA, log $LOG"
  echo "$URL"
}

cmd_stop() { stop_ours 10; }

# `start` installs while holding the same lock, so two builds never race on $BIN_DIR.
locked_install() {
  mkdir -p "$CACHE"
  exec 9>"$CACHE/lock"
  flock -w 900 9 || die "timed out waiting for another minio.sh on $CACHE/lock"
  cmd_install 9>&-
}

case "${1:-}" in
  install) locked_install ;;
  start) cmd_start ;;
  stop) cmd_stop ;;
  *) echo "usage: $0 install|start|stop" >&2; exit 2 ;;
esac

#!/usr/bin/env bash
# Schemathesis against the real API, from its own OpenAPI document: every operation, every
# check, a fixed seed and a bounded number of examples, against `sluice server` with an edit
# token and against `sluice dev` (local-dev mode, no token). Each server runs on a fresh
# state directory and is stopped by its pid.
#
#   scripts/schemathesis.sh install   Schemathesis into ~/.cache/sluice/schemathesis-<version>
#   scripts/schemathesis.sh run       both runs; exit 0 when neither found a failure,
#                                     3 when Schemathesis is not installed
set -euo pipefail
cd "$(dirname "$0")/.."

VERSION=4.32.5
VENV="${HOME}/.cache/sluice/schemathesis-${VERSION}"
NOT_INSTALLED=3
NODE=node_modules/.bin/node
# Bounded: examples per operation and seconds per request.
MAX_EXAMPLES="${SCHEMATHESIS_MAX_EXAMPLES:-25}"
SEED="${SCHEMATHESIS_SEED:-20240601}"

install() {
  if [ -f "$VENV/.complete" ]; then
    echo "schemathesis $VERSION already in $VENV"
    return
  fi
  rm -rf "$VENV"
  mkdir -p "$(dirname "$VENV")"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet "schemathesis==$VERSION"
  touch "$VENV/.complete"
  echo "schemathesis $VERSION installed in $VENV"
}

PIDS=()
WORK=""
stop_servers() {
  local pid
  for pid in "${PIDS[@]}"; do
    kill -TERM "$pid" 2>/dev/null || continue
    for _ in $(seq 1 150); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
  done
  PIDS=()
}
cleanup() {
  stop_servers
  if [ -n "$WORK" ]; then
    # A stopped server's worker processes may still be closing files for a moment.
    rm -rf "$WORK" 2>/dev/null || { sleep 2; rm -rf "$WORK"; }
    WORK=""
  fi
}

# start_server <home> <log> <sluice args…>: starts it in the background (its pid joins PIDS)
# and sets URL once it listens. Not called in a subshell, so that PIDS is this shell's.
URL=""
start_server() {
  local home="$1" log="$2"
  shift 2
  SLUICE_CONFIG="$WORK/config.json" SLUICE_WORKERS=1 "$NODE" src/cli/main.ts --home "$home" "$@" --port 0 >"$log" 2>&1 &
  local pid=$!
  PIDS+=("$pid")
  URL=""
  for _ in $(seq 1 600); do
    URL=$(sed -n 's/.* on \(http:\/\/[^ ]*\) (state.*/\1/p' "$log" | head -1)
    [ -n "$URL" ] && return 0
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "sluice $* exited before listening:" >&2
      cat "$log" >&2
      return 1
    fi
    sleep 0.1
  done
  echo "sluice $* did not listen within 60 s:" >&2
  cat "$log" >&2
  return 1
}

# schemathesis <name> <url> [extra args…]
schemathesis() {
  local name="$1" url="$2"
  shift 2
  echo "== schemathesis: $name ($url)"
  "$VENV/bin/st" --config-file scripts/schemathesis.toml run "$url/api/v1/openapi.json" \
    --checks all --seed "$SEED" --max-examples "$MAX_EXAMPLES" --no-shrink \
    --workers 1 --request-timeout 30 --suppress-health-check all \
    --report junit --report-junit-path "$WORK/$name.junit.xml" \
    "$@"
}

run() {
  if [ ! -f "$VENV/.complete" ]; then
    echo "schemathesis $VERSION is not installed (scripts/schemathesis.sh install)" >&2
    exit "$NOT_INSTALLED"
  fi
  WORK=$(mktemp -d -t sluice-schemathesis-XXXXXX)
  trap 'rc=$?; cleanup; exit $rc' EXIT
  # Schemathesis reads each response whole, so an event stream must end: after 1 s here.
  echo '{"sse":{"stallMs":2000,"maxStreamMs":1000}}' >"$WORK/config.json"
  local status=0

  mkdir -p "$WORK/server"
  local token
  token=$(SLUICE_CONFIG="$WORK/config.json" "$NODE" src/cli/main.ts --home "$WORK/server" token create --role edit --name schemathesis | tail -1)
  start_server "$WORK/server" "$WORK/server.log" server --host 127.0.0.1
  schemathesis server "$URL" --header "Authorization: Bearer $token" || status=1
  stop_servers

  mkdir -p "$WORK/dev"
  start_server "$WORK/dev" "$WORK/dev.log" dev
  schemathesis dev "$URL" || status=1
  stop_servers

  if [ "$status" -ne 0 ]; then
    # Each 500 is logged with the stack under the request id its problem body carries.
    echo "== failed requests in the server logs" >&2
    grep -h 'request failed' "$WORK"/*.log 2>/dev/null | head -50 >&2 || true
  fi
  exit "$status"
}

case "${1:-}" in
  install) install ;;
  run) run ;;
  *) echo "usage: $0 install|run" >&2; exit 2 ;;
esac

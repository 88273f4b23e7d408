#!/usr/bin/env bash
# A ClickHouse server for tests: clickhouse-local from the libchdb.so that the chdb npm
# package installs, opened as a server (HTTP and native listeners) through a short python3
# ctypes wrapper (lib/clickhouse-serve.py). Nothing to download: it needs python3 and
# `npm install`. One instance per machine and libchdb version under the sluice cache;
# listens on 127.0.0.1 only.
#
#   install   check python3 and node_modules' libchdb.so (exit 3 when either is missing)
#   start     start it (or find it running) and print the HTTP URL of the admin user as the
#             last stdout line; exit 3 when not installed, so local test runs can skip
#   stop      stop the server recorded in our pid file (only if that pid is still our server)
#
# Users (users.xml; clickhouse-local has no SQL-managed access storage, see
# docs/decisions/0011-query-user-in-users-xml.md):
#   default        admin, no password, loopback only: what the pipelines and `sluice migrate` use
#   sluice_query   the read-only user of the query endpoint, password `sluice-query-test`; the
#                  user `sluice migrate` would create: readonly = 2, limits it may lower but not
#                  lift, SELECT on the pipeline databases and the system tables the endpoint reads
# The password guards a throwaway server on loopback and is not a secret.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SERVE="$ROOT/scripts/lib/clickhouse-serve.py"
HOST=127.0.0.1
# Below the kernel's ephemeral range (32768-60999), where a test's outgoing connection could
# hold the port.
HTTP_PORT=28123
TCP_PORT=28124
URL="http://$HOST:$HTTP_PORT"
QUERY_USER=sluice_query
QUERY_PASSWORD=sluice-query-test
# What `sluice migrate` grants for the shipped pipelines: the five standard databases and the
# databases of their assets (dummy.records, market.klines). Keep in step with PIPELINE_DATABASES and
# SYSTEM_TABLES in src/runtime/safe-query/query-policy.ts.
QUERY_DATABASES="raw staging vault marts quality dummy market"
QUERY_SYSTEM_TABLES="one numbers numbers_mt zeros zeros_mt tables columns databases functions data_type_families time_zones parts"
# The maximums the endpoint's default limits set (`query` in src/presets/config.ts, as
# limitsSettings writes them): 30 s, 10,000 rows + 1, 4 x 16 MiB of result, 1 GiB.
MAX_EXECUTION_TIME=30
MAX_RESULT_ROWS=10001
MAX_RESULT_BYTES=67108864
MAX_MEMORY_USAGE=1073741824
# The whole server's memory: a test server on a shared machine.
MAX_SERVER_MEMORY=4294967296
NOT_INSTALLED=3
START_TIMEOUT=60

lib_path() { compgen -G "$ROOT/node_modules/@chdb/lib-*/libchdb.so" | head -n 1; }
lib_version() { sed -n 's/^ *"version": *"\([^"]*\)".*/\1/p' "$(dirname "$1")/package.json" | head -n 1; }

log() { echo "clickhouse.sh: $*" >&2; }
die() { log "$*"; exit 1; }

# Everything below depends on the library's version, so a new chdb gets a fresh data path.
LIB=$(lib_path || true)
VERSION=$([[ -n "$LIB" && -f "$(dirname "$LIB")/package.json" ]] && lib_version "$LIB" || echo none)
BASE="${SLUICE_CACHE:-$HOME/.cache/sluice}/clickhouse"
CACHE="$BASE/$VERSION"
DATA="$CACHE/data"
CONFIG="$CACHE/config.xml"
USERS="$CACHE/users.xml"
PID_FILE="$CACHE/clickhouse.pid"
LOG="$CACHE/clickhouse.log"
# shellcheck source=lib/daemon.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/daemon.sh"

installed() {
  command -v python3 >/dev/null 2>&1 || { log "python3 is not on PATH"; return 1; }
  [[ -n "$LIB" ]] || { log "no libchdb.so under $ROOT/node_modules/@chdb (run npm install)"; return 1; }
  [[ "$VERSION" != none ]] || { log "cannot read the version of $LIB"; return 1; }
}

cmd_install() {
  installed || exit "$NOT_INSTALLED"
  python3 "$SERVE" "$LIB" --check || die "python3 cannot load chdb_query_cmdline from $LIB"
  log "ClickHouse from $LIB (chdb $VERSION) is usable; state goes to $CACHE"
}

# Written on every start, so a change to this script reaches the next server.
write_config() {
  cat >"$CONFIG" <<XML
<clickhouse>
  <user_directories><users_xml><path>users.xml</path></users_xml></user_directories>
  <!-- A user sees only the system tables it is granted (and the few every user sees). -->
  <access_control_improvements>
    <select_from_system_db_requires_grant>true</select_from_system_db_requires_grant>
    <select_from_information_schema_requires_grant>true</select_from_information_schema_requires_grant>
  </access_control_improvements>
  <max_server_memory_usage>$MAX_SERVER_MEMORY</max_server_memory_usage>
</clickhouse>
XML
  local hash grants="" db table limits=""
  hash=$(printf %s "$QUERY_PASSWORD" | sha256sum | cut -d' ' -f1)
  for db in $QUERY_DATABASES; do grants+="        <query>GRANT SELECT ON $db.*</query>"$'\n'; done
  for table in $QUERY_SYSTEM_TABLES; do grants+="        <query>GRANT SELECT ON system.$table</query>"$'\n'; done
  local -A max=([max_execution_time]=$MAX_EXECUTION_TIME [max_result_rows]=$MAX_RESULT_ROWS [max_result_bytes]=$MAX_RESULT_BYTES [max_memory_usage]=$MAX_MEMORY_USAGE)
  local values="" name
  # A value of its own as well as MIN 1: a constraint is checked only when a setting changes,
  # and 0 (no limit) must count as lifting it.
  for name in max_execution_time max_result_rows max_result_bytes max_memory_usage; do
    values+="      <$name>${max[$name]}</$name>"$'\n'
    limits+="        <$name><min>1</min><max>${max[$name]}</max></$name>"$'\n'
  done
  cat >"$USERS" <<XML
<clickhouse>
  <profiles>
    <default/>
    <$QUERY_USER>
      <readonly>2</readonly>
$values      <constraints>
$limits      </constraints>
    </$QUERY_USER>
  </profiles>
  <users>
    <!-- clickhouse-local's own session logs in as default, so it keeps an empty password. -->
    <default>
      <password></password>
      <networks><ip>127.0.0.1</ip><ip>::1</ip></networks>
      <profile>default</profile>
      <quota>default</quota>
      <access_management>1</access_management>
    </default>
    <$QUERY_USER>
      <password_sha256_hex>$hash</password_sha256_hex>
      <networks><ip>127.0.0.1</ip><ip>::1</ip></networks>
      <profile>$QUERY_USER</profile>
      <quota>default</quota>
      <grants>
$grants      </grants>
    </$QUERY_USER>
  </users>
  <quotas><default/></quotas>
</clickhouse>
XML
}

our_pid() { pid_matching "$SERVE" "--path=$DATA/"; }

# GET /ping over bash's /dev/tcp (no curl needed); "Ok." once the HTTP listener is up.
is_ready() {
  local body
  body=$(timeout 3 bash -c '
    exec 3<>"/dev/tcp/$0/$1" || exit 1
    printf "GET /ping HTTP/1.0\r\nHost: %s:%s\r\n\r\n" "$0" "$1" >&3
    cat <&3
  ' "$HOST" "$HTTP_PORT" 2>/dev/null) || return 1
  [[ "$body" == "HTTP/1."?" 200"*"Ok."* ]]
}

cmd_start() {
  installed || exit "$NOT_INSTALLED"
  mkdir -p "$CACHE"
  # Test files start in parallel; one of them starts the server, the rest wait.
  exec 9>"$BASE/lock"
  flock -w 120 9 || die "timed out waiting for another clickhouse.sh on $BASE/lock"
  local pid
  if pid=$(our_pid); then
    if is_ready || wait_ready "$pid"; then
      echo "$URL"
      return 0
    fi
    fail_with_log "pid $pid is running but $URL/ping does not answer"
  fi
  rm -f "$PID_FILE"
  if port_taken "$HTTP_PORT" || port_taken "$TCP_PORT"; then
    die "port $HTTP_PORT or $TCP_PORT is taken by a process we did not start; refusing to use or stop it"
  fi
  mkdir -p "$DATA"
  write_config
  : >"$LOG"
  # The statement that opens the listeners then sleeps for about 30 years; they close when
  # it returns. setsid and redirected stdio: the server outlives this script and must not
  # hold the caller's pipes or our lock (9>&-).
  setsid python3 "$SERVE" "$LIB" --config-file="$CONFIG" --path="$DATA/" --log-level=warning \
    --listen_host="$HOST" --http_port="$HTTP_PORT" --tcp_port="$TCP_PORT" --multiquery \
    --query "SYSTEM START LISTEN HTTP; SYSTEM START LISTEN TCP; SELECT sleepEachRow(1) FROM numbers(1000000000) SETTINGS function_sleep_max_microseconds_per_block = 0, max_block_size = 1, max_execution_time = 0 FORMAT Null" \
    >>"$LOG" 2>&1 </dev/null 9>&- &
  pid=$!
  record_started "$pid" "ClickHouse did not answer $URL/ping within ${START_TIMEOUT}s"
  log "started ClickHouse (chdb $VERSION) as pid $pid, data $DATA, log $LOG"
  echo "$URL"
}

cmd_stop() { stop_ours 10; }

case "${1:-}" in
  install) cmd_install ;;
  start) cmd_start ;;
  stop) cmd_stop ;;
  *) echo "usage: $0 install|start|stop" >&2; exit 2 ;;
esac

#!/usr/bin/env bash
# A single-node Apache Kafka broker for tests (KRaft: broker and controller in one JVM),
# built from the jars Maven publishes, so it needs only java and mvn. One instance per
# machine under the sluice cache; listens on 127.0.0.1 only.
#
#   install   fetch kafka_2.13 and its runtime dependencies into $CACHE/libs (skipped when present)
#   start     start it (or find it running) and print the bootstrap address as the last stdout line;
#             runs `install` first when the jars are missing; exit 3 when java or mvn is missing,
#             so local test runs can skip
#   stop      stop the broker recorded in our pid file, unless another test run still has clients
#             connected (--force to insist)
#
# Topics are never created implicitly (auto.create.topics.enable=false): clients create what
# they use, as they must on a production cluster.
#
# A second listener, SASL_PLAINTEXT with SCRAM-SHA-512 on $SASL_PORT, serves the tests of
# authenticated clients: `start` (re)creates the SCRAM users below, whose passwords are fixed
# test values known to the tests (test/helpers/services.ts), not secrets. ACLs are enforced
# (StandardAuthorizer) for SCRAM users on resources that have ACLs; the PLAINTEXT listener's
# ANONYMOUS principal is a super user, so every other test is unaffected.
set -euo pipefail

# 4.2 is the newest line @platformatic/kafka is tested against.
KAFKA_VERSION=4.2.2
# The log4j2 version kafka-server depends on: its slf4j binding must match it.
LOG4J_VERSION=2.25.5
DEPENDENCY_PLUGIN=org.apache.maven.plugins:maven-dependency-plugin:3.8.1

HOST=127.0.0.1
PORT=29092
CONTROLLER_PORT=29093
SASL_PORT=29094
BOOTSTRAP="$HOST:$PORT"
# name:password of the SCRAM-SHA-512 users start creates.
SCRAM_USERS=(sluice-test:sluice-test-secret sluice-control-plane:control-plane-secret sluice-worker:worker-secret sluice-connector:connector-secret)
NOT_INSTALLED=3
CACHE="${SLUICE_CACHE:-$HOME/.cache/sluice}/kafka"
LIBS="$CACHE/libs"
DATA="$CACHE/data"
CONFIG="$CACHE/server.properties"
LOG4J_CONFIG="$CACHE/log4j2.properties"
PID_FILE="$CACHE/kafka.pid"
LOG="$CACHE/kafka.log"
START_TIMEOUT=90

log() { echo "kafka.sh: $*" >&2; }
# shellcheck source=lib/daemon.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/daemon.sh"
die() { log "$*"; exit 1; }

installed() { [[ -f "$LIBS/.complete" && "$(cat "$LIBS/.complete")" == "$KAFKA_VERSION" ]]; }

have_tools() { command -v java >/dev/null 2>&1 && command -v mvn >/dev/null 2>&1; }

# A throwaway project whose only purpose is its dependency list; copy-dependencies resolves
# the runtime closure the way Kafka's own build does. Written to a temporary directory and
# moved into place only when complete, so an interrupted install is never mistaken for one.
cmd_install() {
  if installed; then
    log "Kafka $KAFKA_VERSION is already installed in $LIBS"
    return
  fi
  have_tools || { log "install needs java and mvn on PATH"; exit "$NOT_INSTALLED"; }
  mkdir -p "$CACHE"
  local work
  work=$(mktemp -d "$CACHE/install.XXXXXX")
  cat >"$work/pom.xml" <<POM
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>dev.sluice.test</groupId>
  <artifactId>kafka-broker-libs</artifactId>
  <version>1</version>
  <packaging>pom</packaging>
  <dependencyManagement>
    <dependencies>
      <dependency><groupId>org.apache.logging.log4j</groupId><artifactId>log4j-api</artifactId><version>$LOG4J_VERSION</version></dependency>
      <dependency><groupId>org.apache.logging.log4j</groupId><artifactId>log4j-core</artifactId><version>$LOG4J_VERSION</version></dependency>
    </dependencies>
  </dependencyManagement>
  <dependencies>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka_2.13</artifactId><version>$KAFKA_VERSION</version></dependency>
    <!-- Kafka logs through slf4j 1.7; the distribution routes it to log4j2 with this binding. -->
    <dependency><groupId>org.apache.logging.log4j</groupId><artifactId>log4j-slf4j-impl</artifactId><version>$LOG4J_VERSION</version></dependency>
  </dependencies>
</project>
POM
  log "fetching Kafka $KAFKA_VERSION and its runtime dependencies with Maven"
  if ! (cd "$work" && mvn -B -q -Dstyle.color=never "$DEPENDENCY_PLUGIN:copy-dependencies" \
      -DincludeScope=runtime -DoutputDirectory="$work/libs" >&2); then
    rm -rf "$work"
    die "mvn could not fetch the Kafka jars"
  fi
  if [[ ! -f "$work/libs/kafka_2.13-$KAFKA_VERSION.jar" ]]; then
    rm -rf "$work"
    die "mvn finished but kafka_2.13-$KAFKA_VERSION.jar is missing"
  fi
  echo "$KAFKA_VERSION" >"$work/libs/.complete"
  rm -rf "$LIBS.old"
  [[ -d "$LIBS" ]] && mv "$LIBS" "$LIBS.old"
  mv "$work/libs" "$LIBS"
  rm -rf "$LIBS.old" "$work"
  log "installed $(ls "$LIBS" | wc -l) jars in $LIBS"
}

# Our broker's pid, while the process under it is still our broker.
our_pid() { pid_matching java kafka.Kafka "$CONFIG"; }

# A Metadata request (v4, all topics) over bash's /dev/tcp; ready once a broker is listed.
# Prints nothing and fails while the broker is starting or the port is someone else's.
metadata_ok() {
  local hex
  hex=$(timeout 3 bash -c '
    exec 3<>"/dev/tcp/$0/$1" || exit 1
    printf "\x00\x00\x00\x17\x00\x03\x00\x04\x00\x00\x00\x07\x00\x08kafka.sh\xff\xff\xff\xff\x00" >&3
    head -c 16 <&3 | od -An -v -tx1 | tr -d " \n"
  ' "$HOST" "$PORT" 2>/dev/null) || return 1
  # size(4) correlation id(4) throttle(4) broker count(4)
  [[ ${#hex} -eq 32 && "${hex:8:8}" == 00000007 ]] || return 1
  (( 16#${hex:24:8} >= 1 ))
}

is_ready() { metadata_ok; }

# Rewritten on every start so a moved cache directory is picked up. Sized for tests: one
# partition for the internal topics (a group's first FindCoordinator creates
# __consumer_offsets, and 50 partitions take seconds), no delay before a new group's
# first rebalance.
write_config() {
  cat >"$CONFIG" <<CONF
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@$HOST:$CONTROLLER_PORT
listeners=PLAINTEXT://$HOST:$PORT,SASL_PLAINTEXT://$HOST:$SASL_PORT,CONTROLLER://$HOST:$CONTROLLER_PORT
advertised.listeners=PLAINTEXT://$HOST:$PORT,SASL_PLAINTEXT://$HOST:$SASL_PORT
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT,SASL_PLAINTEXT:SASL_PLAINTEXT
sasl.enabled.mechanisms=SCRAM-SHA-512
listener.name.sasl_plaintext.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer
super.users=User:ANONYMOUS
allow.everyone.if.no.acl.found=true
log.dirs=$DATA
auto.create.topics.enable=false
num.partitions=1
default.replication.factor=1
offsets.topic.replication.factor=1
offsets.topic.num.partitions=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
log.retention.hours=24
log.segment.bytes=16777216
CONF
  cat >"$LOG4J_CONFIG" <<'LOG4J'
status = warn
appender.out.type = Console
appender.out.name = out
appender.out.layout.type = PatternLayout
appender.out.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = info
rootLogger.appenderRef.out.ref = out
logger.kafka.name = kafka
logger.kafka.level = info
logger.state.name = state.change.logger
logger.state.level = warn
logger.request.name = kafka.request.logger
logger.request.level = warn
LOG4J
}

# A small heap is plenty for test traffic. C1 only and the serial collector halve the
# start (about 2.5 s instead of 5 s); test traffic never needs C2's peak throughput.
JAVA_ARGS=(-Xms128m -Xmx512m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -XX:+ExitOnOutOfMemoryError
  -Djava.awt.headless=true -Dlog4j2.configurationFile="$LOG4J_CONFIG" -Dkafka.logs.dir="$CACHE/logs"
  -cp "$LIBS/*")

format_storage() {
  [[ -f "$DATA/meta.properties" ]] && return 0
  rm -rf "$DATA" # only ever a half-made directory here: meta.properties is missing
  # A cluster id is 16 random bytes in URL-safe base64 without padding.
  local id
  id=$(head -c 16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=')
  java "${JAVA_ARGS[@]}" kafka.tools.StorageTool format -t "$id" -c "$CONFIG" >>"$LOG" 2>&1 \
    || fail_with_log "formatting the KRaft storage in $DATA failed"
}

# The SCRAM users, through the PLAINTEXT listener (idempotent; about a second each).
add_scram_users() {
  local u name
  for u in "${SCRAM_USERS[@]}"; do
    name=${u%%:*}
    timeout 60 java "${JAVA_ARGS[@]}" kafka.admin.ConfigCommand --bootstrap-server "$BOOTSTRAP" --alter \
      --add-config "SCRAM-SHA-512=[iterations=4096,password=${u#*:}]" --entity-type users --entity-name "$name" >>"$LOG" 2>&1 \
      || fail_with_log "creating the SCRAM user $name failed"
  done
}

cmd_start() {
  mkdir -p "$CACHE"
  # Test files start in parallel; one of them installs and starts, the rest wait.
  exec 9>"$CACHE/lock"
  flock -w 600 9 || die "timed out waiting for another kafka.sh on $CACHE/lock"
  local pid
  if pid=$(our_pid); then
    if metadata_ok || wait_ready "$pid"; then
      echo "$BOOTSTRAP"
      return 0
    fi
    fail_with_log "pid $pid is running but does not answer a metadata request on $BOOTSTRAP"
  fi
  rm -f "$PID_FILE"
  if ! installed; then
    if ! have_tools; then
      log "Kafka is not installed here and java/mvn are missing (run scripts/kafka.sh install)"
      exit "$NOT_INSTALLED"
    fi
    cmd_install 9>&-
  fi
  command -v java >/dev/null 2>&1 || { log "java is not on PATH"; exit "$NOT_INSTALLED"; }
  if port_taken "$PORT" || port_taken "$CONTROLLER_PORT" || port_taken "$SASL_PORT"; then
    die "port $PORT, $CONTROLLER_PORT or $SASL_PORT is taken by a process we did not start; refusing to use or stop it"
  fi
  write_config
  : >"$LOG"
  format_storage
  mkdir -p "$CACHE/logs"
  # setsid and redirected stdio: the broker outlives this script and must not hold the
  # caller's pipes (execFile in the tests waits for them) or our lock (9>&-).
  setsid java "${JAVA_ARGS[@]}" kafka.Kafka "$CONFIG" >>"$LOG" 2>&1 </dev/null 9>&- &
  pid=$!
  record_started "$pid" "the broker did not answer a metadata request on $BOOTSTRAP within ${START_TIMEOUT}s"
  add_scram_users
  log "started Kafka $KAFKA_VERSION as pid $pid, log $LOG"
  echo "$BOOTSTRAP"
}

# Established connections to the client port other than our own probes.
client_count() {
  local port_hex
  port_hex=$(printf '%04X' "$PORT")
  awk -v p=":$port_hex" '$2 ~ p"$" && $4 == "01" { n++ } END { print n + 0 }' /proc/net/tcp 2>/dev/null || echo 0
}

cmd_stop() {
  local pid
  if ! pid=$(our_pid); then
    rm -f "$PID_FILE"
    return 0
  fi
  if [[ "${1:-}" != "--force" ]]; then
    # Clients of a test run that just ended can take a moment to disconnect.
    local others=0 try
    for try in 1 2 3 4; do
      others=$(client_count)
      [[ "$others" -gt 0 ]] || break
      [[ $try -lt 4 ]] && sleep 0.5
    done
    if [[ "$others" -gt 0 ]]; then
      log "$others client connection(s) still open, leaving it running (stop --force to insist)"
      return 0
    fi
  fi
  terminate "$pid" 30
}

# `start` installs while holding the same lock, so two installs never race on $LIBS.
locked_install() {
  mkdir -p "$CACHE"
  exec 9>"$CACHE/lock"
  flock -w 600 9 || die "timed out waiting for another kafka.sh on $CACHE/lock"
  cmd_install
}

case "${1:-}" in
  install) locked_install ;;
  start) cmd_start ;;
  stop) shift; cmd_stop "$@" ;;
  *) echo "usage: $0 install|start|stop [--force]" >&2; exit 2 ;;
esac

#!/usr/bin/env bash
# A real Kubernetes control plane for tests, built from source through the Go module proxy:
# etcd, kube-apiserver (RBAC, PodSecurity, NodeRestriction), kube-controller-manager (the real
# Job controller), kube-scheduler, and kwok for fake nodes, one per node pool. Nothing runs
# containers: the tests' pod runner (test/helpers/pod-runner.ts) stands in for kubelet on the
# node it owns. Also builds kubectl, helm and kubeconform for the chart's tests. Loopback only.
#
#   install   build every binary into $CACHE/<version>/bin (skipped when present: a warm
#             install takes seconds; cold, about 15 minutes on 2 cores)
#   up        start the control plane (or find it running) and print the path of an admin
#             kubeconfig as the last stdout line; exit 3 when not installed and go is missing
#   down      stop every process `up` started, by pid, and forget the cluster's data
#   start / stop  the same as up / down (the names test/helpers/services.ts uses)
#   env       print the paths of the tools (KUBECTL=…, HELM=…, KUBECONFORM=…, KWOK_STAGES=…)
#
# Fake nodes (kwok): `sluice-runner` (label sluice.dev/pod-runner=true, node pool `default`)
# and `sluice-runner-lost` (pool `lost-test`) whose pods the pod runner executes, and `kwok-default` / `kwok-highmem` whose pods kwok's
# stages move through their phases without running anything. Ports: apiserver 26443, etcd
# 26379/26380, kwok 26447 (all below the ephemeral range 32768-60999).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
K8S_VERSION=v1.34.4
STAGING_VERSION=v0.34.4
ETCD_VERSION=v3.6.16
KWOK_VERSION=v0.8.0
HELM_VERSION=v3.22.0
KUBECONFORM_VERSION=v0.8.0
# One key for the whole tool set: a change of any version rebuilds into a new folder.
TOOLSET="k8s-$K8S_VERSION-etcd-$ETCD_VERSION-kwok-$KWOK_VERSION-helm-$HELM_VERSION-kc-$KUBECONFORM_VERSION"

HOST=127.0.0.1
API_PORT=26443
ETCD_PORT=26379
ETCD_PEER_PORT=26380
KWOK_PORT=26447
NOT_INSTALLED=3
START_TIMEOUT=90

BASE="${SLUICE_CACHE:-$HOME/.cache/sluice}/kubernetes"
CACHE="$BASE/$TOOLSET"
BIN_DIR="$CACHE/bin"
STAGES="$CACHE/stages"
RUN="$BASE/run"
PKI="$RUN/pki"
LOG_DIR="$RUN/logs"
KUBECONFIG_ADMIN="$RUN/admin.kubeconfig"
BINARIES=(etcd kube-apiserver kube-controller-manager kube-scheduler kubectl kwok helm kubeconform)

log() { echo "kubernetes.sh: $*" >&2; }
die() { log "$*"; exit 1; }

goenv() {
  env GOPATH="$BASE/go" GOMODCACHE="$BASE/go/pkg/mod" GOCACHE="$BASE/go-build" \
    GOTOOLCHAIN=local CGO_ENABLED=0 GOWORK=off GOFLAGS="-modcacherw -buildvcs=false" "$@"
}

installed() {
  local b
  for b in "${BINARIES[@]}"; do [[ -x "$BIN_DIR/$b" ]] || return 1; done
  [[ -d "$STAGES" ]]
}

# kube-apiserver, kube-controller-manager, kube-scheduler and kubectl from k8s.io/kubernetes.
# Its go.mod replaces the k8s.io/* libraries with ./staging/src/k8s.io/*, which the module zip
# omits: each is downloaded at the matching v0.x version and put at its staging path.
build_kubernetes() {
  local out=$1 src="$BASE/src/kubernetes-$K8S_VERSION" dir
  dir=$(goenv go mod download -json "k8s.io/kubernetes@$K8S_VERSION" | sed -n 's/^\s*"Dir": "\(.*\)",$/\1/p')
  [[ -d "$dir" ]] || die "go mod download k8s.io/kubernetes@$K8S_VERSION gave no folder"
  rm -rf "$src"
  mkdir -p "$(dirname "$src")"
  cp -r "$dir" "$src"
  chmod -R u+w "$src"
  # vendor/ holds only OWNERS files here and makes go see "inconsistent vendoring"; go.work
  # names the staging folders as workspace modules.
  rm -rf "$src/vendor" "$src/go.work" "$src/go.work.sum"
  local module path sdir
  while read -r module path; do
    case "$module" in k8s.io/sample-cli-plugin|k8s.io/sample-controller) continue ;; esac
    sdir=$(goenv go mod download -json "$module@$STAGING_VERSION" | sed -n 's/^\s*"Dir": "\(.*\)",$/\1/p')
    [[ -d "$sdir" ]] || die "go mod download $module@$STAGING_VERSION gave no folder"
    rm -rf "${src:?}/$path"
    mkdir -p "$(dirname "$src/$path")"
    cp -r "$sdir" "$src/$path"
    chmod -R u+w "$src/$path"
  done < <(sed -n 's/^\s*\(k8s\.io\/[a-z0-9-]*\) => \.\/\(staging\/src\/k8s\.io\/[a-z0-9-]*\)$/\1 \2/p' "$src/go.mod")
  local minor=${K8S_VERSION#v1.}; minor=${minor%%.*}
  local flags=() key val
  for pair in "gitVersion=$K8S_VERSION" "gitMajor=1" "gitMinor=$minor" "gitTreeState=clean" \
      "buildDate=2026-01-01T00:00:00Z"; do
    key=${pair%%=*}; val=${pair#*=}
    flags+=("-X k8s.io/client-go/pkg/version.$key=$val" "-X k8s.io/component-base/version.$key=$val")
  done
  log "building kube-apiserver, kube-controller-manager, kube-scheduler, kubectl $K8S_VERSION (about 10 minutes cold)"
  # -mod=mod: the staging modules require each other at v0.x while the main go.mod says
  # v0.0.0 (the replace makes both the same code); go would otherwise ask for `go mod tidy`.
  (cd "$src" && goenv go build -mod=mod -p 2 -trimpath -ldflags "-s -w ${flags[*]}" -o "$out/" \
    ./cmd/kube-apiserver ./cmd/kube-controller-manager ./cmd/kube-scheduler ./cmd/kubectl >&2)
  rm -rf "$src"
}

# etcd's server module has replace directives, so `go install` refuses it; as a tool of a
# scratch module it builds.
build_etcd() {
  local out=$1 scratch="$BASE/src/etcd-$ETCD_VERSION"
  rm -rf "$scratch"; mkdir -p "$scratch"
  log "building etcd $ETCD_VERSION"
  (cd "$scratch" && goenv go mod init sluice.dev/etcd-build >/dev/null 2>&1 &&
    goenv go get -tool "go.etcd.io/etcd/server/v3@$ETCD_VERSION" >&2 &&
    goenv go build -p 2 -trimpath -ldflags "-s -w" -o "$out/etcd" go.etcd.io/etcd/server/v3 >&2)
  rm -rf "$scratch"
}

# kwok and its stock stages (from its module zip), which `up` reads beside its own.
build_kwok() {
  local out=$1 dir
  log "building kwok $KWOK_VERSION"
  goenv env GOBIN="$out" go install -trimpath -ldflags "-s -w" "sigs.k8s.io/kwok/cmd/kwok@$KWOK_VERSION" >&2
  dir=$(goenv go mod download -json "sigs.k8s.io/kwok@$KWOK_VERSION" | sed -n 's/^\s*"Dir": "\(.*\)",$/\1/p')
  [[ -d "$dir/kustomize/stage" ]] || die "kwok's module has no kustomize/stage"
  mkdir -p "$out/../stages.new/stock"
  cp -r "$dir/kustomize/stage/." "$out/../stages.new/stock/"
}

build_helm() {
  local out=$1
  log "building helm $HELM_VERSION and kubeconform $KUBECONFORM_VERSION"
  goenv env GOBIN="$out" go install -trimpath \
    -ldflags "-s -w -X helm.sh/helm/v3/internal/version.version=$HELM_VERSION" \
    "helm.sh/helm/v3/cmd/helm@$HELM_VERSION" >&2
  goenv env GOBIN="$out" go install -trimpath -ldflags "-s -w" \
    "github.com/yannh/kubeconform/cmd/kubeconform@$KUBECONFORM_VERSION" >&2
}

cmd_install() {
  if installed; then
    log "the Kubernetes tools are already installed in $BIN_DIR"
    return
  fi
  command -v go >/dev/null 2>&1 || { log "install needs go on PATH"; exit "$NOT_INSTALLED"; }
  mkdir -p "$CACHE"
  local started=$SECONDS work="$CACHE/bin.new"
  # Each binary is kept once built, so an interrupted install resumes where it stopped.
  mkdir -p "$work"
  [[ -x "$work/etcd" ]] || build_etcd "$work"
  [[ -x "$work/kwok" && -d "$CACHE/stages.new/stock" ]] || build_kwok "$work"
  [[ -x "$work/helm" && -x "$work/kubeconform" ]] || build_helm "$work"
  [[ -x "$work/kube-apiserver" && -x "$work/kubectl" && -x "$work/kube-scheduler" && -x "$work/kube-controller-manager" ]] ||
    build_kubernetes "$work"
  local b
  for b in "${BINARIES[@]}"; do [[ -x "$work/$b" ]] || die "the build produced no $b"; done
  rm -rf "$BIN_DIR" "$STAGES"
  mv "$CACHE/stages.new" "$STAGES"
  mv "$work" "$BIN_DIR"
  log "installed ${BINARIES[*]} in $BIN_DIR in $((SECONDS - started))s"
}

locked_install() {
  mkdir -p "$BASE"
  exec 9>"$BASE/lock"
  flock -w 3600 9 || die "timed out waiting for another kubernetes.sh on $BASE/lock"
  cmd_install 9>&-
}


# ---------------------------------------------------------------------------------------
# up / down

# shellcheck source=lib/daemon.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/daemon.sh"
PROCS=(etcd kube-apiserver kube-controller-manager kube-scheduler kwok)

pid_file() { echo "$RUN/$1.pid"; }

# The pid of our process `name`, while its command line is still ours (pids get reused).
our_proc() {
  local name=$1 pid cmdline
  [[ -f "$(pid_file "$name")" ]] || return 1
  pid=$(cat "$(pid_file "$name")")
  [[ "$pid" =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null || return 1
  cmdline=$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null) || return 1
  [[ "$cmdline" == "$BIN_DIR/$name "* && "$cmdline" == *"$RUN"* ]] || return 1
  echo "$pid"
}

api_ready() {
  "$BIN_DIR/kubectl" --kubeconfig "$KUBECONFIG_ADMIN" --request-timeout=3s get --raw /readyz >/dev/null 2>&1
}

cert() { # name CN O [SANs]
  local name=$1 cn=$2 org=$3 san=${4:-} ext="$PKI/$1.ext"
  openssl genrsa -out "$PKI/$name.key" 2048 2>/dev/null
  openssl req -new -key "$PKI/$name.key" -subj "/CN=$cn${org:+/O=$org}" -out "$PKI/$name.csr" 2>/dev/null
  {
    echo "basicConstraints=CA:FALSE"
    echo "keyUsage=critical,digitalSignature,keyEncipherment"
    if [[ -n "$san" ]]; then echo "extendedKeyUsage=serverAuth,clientAuth"; echo "subjectAltName=$san"; else echo "extendedKeyUsage=clientAuth"; fi
  } >"$ext"
  openssl x509 -req -in "$PKI/$name.csr" -CA "$PKI/ca.crt" -CAkey "$PKI/ca.key" -CAcreateserial -days 365 \
    -extfile "$ext" -out "$PKI/$name.crt" 2>/dev/null
  rm -f "$PKI/$name.csr" "$ext"
}

kubeconfig() { # file user
  cat >"$1" <<YAML
apiVersion: v1
kind: Config
clusters:
- name: sluice-test
  cluster: {server: "https://$HOST:$API_PORT", certificate-authority: "$PKI/ca.crt"}
users:
- name: $2
  user: {client-certificate: "$PKI/$2.crt", client-key: "$PKI/$2.key"}
contexts:
- name: sluice-test
  context: {cluster: sluice-test, user: $2}
current-context: sluice-test
YAML
}

make_pki() {
  [[ -f "$PKI/admin.crt" ]] && return 0
  rm -rf "$PKI"; mkdir -p "$PKI"
  openssl req -x509 -newkey rsa:2048 -nodes -keyout "$PKI/ca.key" -out "$PKI/ca.crt" -days 365 \
    -subj "/CN=sluice-test-ca" 2>/dev/null
  cert apiserver kube-apiserver "" \
    "DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local,IP:127.0.0.1,IP:10.96.0.1"
  cert admin sluice-admin system:masters
  cert controller-manager system:kube-controller-manager ""
  cert scheduler system:kube-scheduler ""
  openssl genrsa -out "$PKI/sa.key" 2048 2>/dev/null
  openssl rsa -in "$PKI/sa.key" -pubout -out "$PKI/sa.pub" 2>/dev/null
}

# Our stages: kwok's stock node stages (initialize, heartbeat with lease) and pod stages for
# every node but the pod runner's, whose pods a real process runs. On `kwok-oom` a running
# pod is OOMKilled (exit 137), as a kubelet reports a container over its memory limit; on
# the other kwok nodes it completes. A pod being deleted is marked Failed first (a kubelet
# does), so the Job controller counts it, then removed.
write_stages() {
  local out="$RUN/stages.yaml" stock="$STAGES/stock"
  {
    cat "$stock/node/fast/node-initialize.yaml"; echo "---"
    cat "$stock/node/heartbeat-with-lease/node-heartbeat-with-lease.yaml"; echo "---"
    sed "/^    matchExpressions:/a\\
    - key: '.spec.nodeName'\\
      operator: 'NotIn'\\
      values: ['sluice-runner', 'sluice-runner-lost']" "$stock/pod/fast/pod-ready.yaml"; echo "---"
    cat <<YAML
apiVersion: kwok.x-k8s.io/v1alpha1
kind: Stage
metadata:
  name: pod-oomkilled
spec:
  resourceRef: {apiGroup: v1, kind: Pod}
  selector:
    matchExpressions:
    - key: '.metadata.deletionTimestamp'
      operator: 'DoesNotExist'
    - key: '.status.phase'
      operator: 'In'
      values: ['Running']
    - key: '.spec.nodeName'
      operator: 'In'
      values: ['kwok-oom']
  delay: {durationMilliseconds: 500}
  next:
    statusTemplate: |
      {{ \$now := Now }}
      containerStatuses:
      {{ range .spec.containers }}
      - image: {{ .image | Quote }}
        name: {{ .name | Quote }}
        ready: false
        restartCount: 0
        started: false
        state:
          terminated:
            exitCode: 137
            finishedAt: {{ \$now | Quote }}
            reason: OOMKilled
            startedAt: {{ \$now | Quote }}
      {{ end }}
      phase: Failed
---
YAML
    sed "/^    matchExpressions:/a\\
    - key: '.spec.nodeName'\\
      operator: 'NotIn'\\
      values: ['sluice-runner', 'sluice-runner-lost', 'kwok-oom']" "$stock/pod/fast/pod-complete.yaml"; echo "---"
    cat <<YAML
apiVersion: kwok.x-k8s.io/v1alpha1
kind: Stage
metadata:
  name: pod-terminating-failed
spec:
  resourceRef: {apiGroup: v1, kind: Pod}
  selector:
    matchExpressions:
    - key: '.metadata.deletionTimestamp'
      operator: 'Exists'
    - key: '.status.phase'
      operator: 'In'
      values: ['Pending', 'Running']
    - key: '.spec.nodeName'
      operator: 'NotIn'
      values: ['sluice-runner', 'sluice-runner-lost']
  next:
    statusTemplate: |
      phase: Failed
---
apiVersion: kwok.x-k8s.io/v1alpha1
kind: Stage
metadata:
  name: pod-delete
spec:
  resourceRef: {apiGroup: v1, kind: Pod}
  selector:
    matchExpressions:
    - key: '.metadata.deletionTimestamp'
      operator: 'Exists'
    - key: '.status.phase'
      operator: 'NotIn'
      values: ['Pending', 'Running']
    - key: '.spec.nodeName'
      operator: 'NotIn'
      values: ['sluice-runner', 'sluice-runner-lost']
  next:
    finalizers: {empty: true}
    delete: true
YAML
  } >"$out"
}

# One fake node per pool. `sluice-runner` and `sluice-runner-lost` (the node-lost test taints
# it) are the pod runner's (test/helpers/pod-runner.ts).
write_nodes() {
  local out="$RUN/nodes.yaml" node pool
  : >"$out"
  for node in sluice-runner:default sluice-runner-lost:lost-test kwok-default:kwok kwok-highmem:highmem kwok-oom:oom-test; do
    pool=${node#*:}; node=${node%%:*}
    cat >>"$out" <<YAML
apiVersion: v1
kind: Node
metadata:
  name: $node
  annotations: {kwok.x-k8s.io/node: fake, node.alpha.kubernetes.io/ttl: "0"}
  labels:
    kubernetes.io/hostname: $node
    kubernetes.io/os: linux
    kubernetes.io/arch: amd64
    type: kwok
    cloud.google.com/gke-nodepool: $pool
$([[ $node == sluice-runner* ]] && echo "    sluice.dev/pod-runner: \"true\"")
status:
  allocatable: {cpu: "32", memory: 64Gi, pods: "500"}
  capacity: {cpu: "32", memory: 64Gi, pods: "500"}
---
YAML
  done
}

start_proc() { # name args...
  local name=$1; shift
  setsid "$BIN_DIR/$name" "$@" >>"$LOG_DIR/$name.log" 2>&1 </dev/null 9>&- &
  echo $! >"$(pid_file "$name")"
}

wait_for() { # what command...
  local what=$1 deadline=$((SECONDS + START_TIMEOUT)); shift
  until "$@"; do
    (( SECONDS < deadline )) || { log "timed out waiting for $what"; tail -n 30 "$LOG_DIR"/*.log >&2; cmd_down >/dev/null; exit 1; }
    sleep 0.2
  done
}

etcd_ready() { timeout 2 bash -c "exec 3<>/dev/tcp/$HOST/$ETCD_PORT" 2>/dev/null; }

cmd_up() {
  mkdir -p "$BASE"
  exec 9>"$BASE/lock"
  flock -w 3600 9 || die "timed out waiting for another kubernetes.sh on $BASE/lock"
  if ! installed; then
    command -v go >/dev/null 2>&1 || { log "the Kubernetes tools are not built here and go is missing"; exit "$NOT_INSTALLED"; }
    cmd_install 9>&-
  fi
  local all=1 p
  for p in "${PROCS[@]}"; do our_proc "$p" >/dev/null || all=0; done
  if (( all )) && api_ready; then echo "$KUBECONFIG_ADMIN"; return 0; fi
  cmd_down >/dev/null 2>&1 || true
  for p in $API_PORT $ETCD_PORT $ETCD_PEER_PORT $KWOK_PORT 26457 26459; do
    (exec 3<>"/dev/tcp/$HOST/$p") 2>/dev/null && die "port $p is taken by a process we did not start; refusing to use or stop it"
  done
  mkdir -p "$RUN" "$LOG_DIR"
  rm -rf "$RUN/etcd"
  rm -f "$LOG_DIR"/*.log
  make_pki
  kubeconfig "$KUBECONFIG_ADMIN" admin
  kubeconfig "$RUN/controller-manager.kubeconfig" controller-manager
  kubeconfig "$RUN/scheduler.kubeconfig" scheduler
  cat >"$RUN/scheduler.yaml" <<YAML
apiVersion: kubescheduler.config.k8s.io/v1
kind: KubeSchedulerConfiguration
clientConnection: {kubeconfig: "$RUN/scheduler.kubeconfig", qps: 100, burst: 200}
leaderElection: {leaderElect: false}
YAML
  write_stages
  write_nodes
  local started=$SECONDS
  start_proc etcd --name sluice-test --data-dir "$RUN/etcd" \
    --listen-client-urls "http://$HOST:$ETCD_PORT" --advertise-client-urls "http://$HOST:$ETCD_PORT" \
    --listen-peer-urls "http://$HOST:$ETCD_PEER_PORT" --initial-advertise-peer-urls "http://$HOST:$ETCD_PEER_PORT" \
    --initial-cluster "sluice-test=http://$HOST:$ETCD_PEER_PORT" --unsafe-no-fsync --quota-backend-bytes 2147483648
  wait_for etcd etcd_ready
  start_proc kube-apiserver --etcd-servers "http://$HOST:$ETCD_PORT" \
    --bind-address "$HOST" --advertise-address "$HOST" --secure-port "$API_PORT" \
    --tls-cert-file "$PKI/apiserver.crt" --tls-private-key-file "$PKI/apiserver.key" --client-ca-file "$PKI/ca.crt" \
    --service-account-issuer https://kubernetes.default.svc.cluster.local \
    --service-account-key-file "$PKI/sa.pub" --service-account-signing-key-file "$PKI/sa.key" \
    --service-cluster-ip-range 10.96.0.0/16 --authorization-mode Node,RBAC \
    --enable-admission-plugins NodeRestriction,PodSecurity --endpoint-reconciler-type none \
    --profiling=false --storage-backend etcd3
  wait_for kube-apiserver api_ready
  start_proc kube-controller-manager --kubeconfig "$RUN/controller-manager.kubeconfig" \
    --authentication-kubeconfig "$RUN/controller-manager.kubeconfig" --authorization-kubeconfig "$RUN/controller-manager.kubeconfig" \
    --bind-address "$HOST" --secure-port 26457 --leader-elect=false --use-service-account-credentials \
    --service-account-private-key-file "$PKI/sa.key" --root-ca-file "$PKI/ca.crt" \
    --cluster-signing-cert-file "$PKI/ca.crt" --cluster-signing-key-file "$PKI/ca.key" \
    --kube-api-qps 100 --kube-api-burst 200 --concurrent-job-syncs 20 --profiling=false
  start_proc kube-scheduler --config "$RUN/scheduler.yaml" \
    --authentication-kubeconfig "$RUN/scheduler.kubeconfig" --authorization-kubeconfig "$RUN/scheduler.kubeconfig" \
    --bind-address "$HOST" --secure-port 26459 --profiling=false
  start_proc kwok --kubeconfig "$KUBECONFIG_ADMIN" --manage-nodes-with-annotation-selector kwok.x-k8s.io/node=fake \
    --config "$RUN/stages.yaml" --server-address "$HOST:$KWOK_PORT" --node-lease-duration-seconds 40 --cidr 10.244.0.0/16
  "$BIN_DIR/kubectl" --kubeconfig "$KUBECONFIG_ADMIN" apply -f "$RUN/nodes.yaml" >/dev/null
  wait_for "the nodes to be Ready" nodes_ready
  wait_for "the default service account" default_sa
  log "control plane up in $((SECONDS - started))s (apiserver https://$HOST:$API_PORT, logs $LOG_DIR)"
  echo "$KUBECONFIG_ADMIN"
}

nodes_ready() {
  local n
  local want
  want=$(grep -c '^kind: Node$' "$RUN/nodes.yaml")
  n=$("$BIN_DIR/kubectl" --kubeconfig "$KUBECONFIG_ADMIN" get nodes --no-headers 2>/dev/null | grep -c ' Ready ') || true
  [[ "$n" == "$want" ]]
}
default_sa() { "$BIN_DIR/kubectl" --kubeconfig "$KUBECONFIG_ADMIN" -n default get serviceaccount default >/dev/null 2>&1; }

# Stops what `up` started, newest first, each by the pid it recorded.
cmd_down() {
  local p pid i
  for (( i=${#PROCS[@]}-1; i>=0; i-- )); do
    p=${PROCS[$i]}
    if pid=$(our_proc "$p"); then
      PID_FILE=$(pid_file "$p") terminate "$pid" 10 >/dev/null
    fi
    rm -f "$(pid_file "$p")"
  done
  rm -rf "$RUN/etcd"
  echo "stopped"
}

cmd_env() {
  echo "KUBECTL=$BIN_DIR/kubectl"
  echo "HELM=$BIN_DIR/helm"
  echo "KUBECONFORM=$BIN_DIR/kubeconform"
  echo "KUBECONFIG_ADMIN=$KUBECONFIG_ADMIN"
}

case "${1:-}" in
  install) locked_install ;;
  up|start) cmd_up ;;
  down|stop) cmd_down ;;
  env) cmd_env ;;
  *) echo "usage: $0 install|up|down|env" >&2; exit 2 ;;
esac

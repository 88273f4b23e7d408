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
#   env       print the paths of the tools (KUBECTL=…, HELM=…, KUBECONFORM=…, KWOK_STAGES=…)
#
# Fake nodes (kwok): `sluice-runner` (label sluice.dev/pod-runner=true, node pool `default`)
# whose pods the pod runner executes, and `kwok-default` / `kwok-highmem` whose pods kwok's
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
  (cd "$src" && goenv go build -p 2 -trimpath -ldflags "-s -w ${flags[*]}" -o "$out/" \
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

case "${1:-}" in
  install) locked_install ;;
  *) echo "usage: $0 install|up|down|env" >&2; exit 2 ;;
esac

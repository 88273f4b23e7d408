#!/usr/bin/env bash
# The CustomResourceDefinitions (and a few schemas) the GitOps manifests under deploy/ are
# validated against, taken from each project's own Go module through the Go module proxy:
# nothing here is committed, everything is cached under $CACHE keyed by the versions below.
#
#   install   download the modules (seconds when cached) and collect the files
#   env       print CRDS=<folder of CRD yaml files>, ARGOCD_MANIFESTS=<argo-cd's manifests/>,
#             K3D_SCHEMA=<k3d's config schema.json>, and the versions; exit 3 when not installed
#
# Not available from any registry here (looked for in the Go module proxy and Maven Central):
# Strimzi's CRDs (io.strimzi:api holds the model classes, not the generated CRDs, and
# io.strimzi:crd-generator is not served) and Altinity's ClickHouse operator (its tags are not
# semantic versions and the proxy serves none of its pseudo-versions). The tests validate those
# objects as far as possible without them and say so.
set -euo pipefail

ARGOCD_VERSION=v3.5.7
CNPG_VERSION=v1.27.0
PROMETHEUS_OPERATOR_VERSION=v0.85.0
KEDA_VERSION=v2.21.0
CERT_MANAGER_VERSION=v1.21.2
K3D_VERSION=v5.8.3
KEY="argocd-$ARGOCD_VERSION-cnpg-$CNPG_VERSION-promop-$PROMETHEUS_OPERATOR_VERSION-keda-$KEDA_VERSION-cm-$CERT_MANAGER_VERSION-k3d-$K3D_VERSION"

BASE="${SLUICE_CACHE:-$HOME/.cache/sluice}/crds"
CACHE="$BASE/$KEY"
NOT_INSTALLED=3

log() { echo "crds.sh: $*" >&2; }
die() { log "$*"; exit 1; }

goenv() {
  env GOPATH="$BASE/go" GOMODCACHE="$BASE/go/pkg/mod" GOCACHE="$BASE/go-build" \
    GOTOOLCHAIN=local GOWORK=off GOFLAGS="-modcacherw" "$@"
}

# The module's folder in the module cache (downloaded if needed).
module_dir() {
  local dir
  dir=$(cd "$BASE" && goenv timeout 600 go mod download -json "$1" | sed -n 's/^\s*"Dir": "\(.*\)",$/\1/p')
  [[ -d "$dir" ]] || die "go mod download $1 gave no folder"
  echo "$dir"
}

installed() { [[ -f "$CACHE/.complete" ]]; }

cmd_install() {
  if installed; then log "CRDs for $KEY are already collected in $CACHE"; return; fi
  command -v go >/dev/null 2>&1 || { log "install needs go on PATH"; exit "$NOT_INSTALLED"; }
  mkdir -p "$BASE"
  rm -rf "$CACHE" "$CACHE.tmp"
  local tmp="$CACHE.tmp" dir
  mkdir -p "$tmp/crds"
  dir=$(module_dir "github.com/argoproj/argo-cd/v3@$ARGOCD_VERSION")
  cp "$dir"/manifests/crds/*-crd.yaml "$tmp/crds/"
  cp -r "$dir/manifests" "$tmp/argocd-manifests"
  dir=$(module_dir "github.com/cloudnative-pg/cloudnative-pg@$CNPG_VERSION")
  cp "$dir"/config/crd/bases/*.yaml "$tmp/crds/"
  dir=$(module_dir "github.com/prometheus-operator/prometheus-operator@$PROMETHEUS_OPERATOR_VERSION")
  cp "$dir"/example/prometheus-operator-crd/*.yaml "$tmp/crds/"
  dir=$(module_dir "github.com/kedacore/keda/v2@$KEDA_VERSION")
  cp "$dir"/config/crd/bases/*.yaml "$tmp/crds/"
  dir=$(module_dir "github.com/cert-manager/cert-manager@$CERT_MANAGER_VERSION")
  cp "$dir"/deploy/crds/*.yaml "$tmp/crds/"
  dir=$(module_dir "github.com/k3d-io/k3d/v5@$K3D_VERSION")
  cp "$dir/pkg/config/v1alpha5/schema.json" "$tmp/k3d-schema.json"
  # cert-manager's files are Helm templates around plain CRDs: keep what kubectl can read.
  for f in "$tmp"/crds/*.yaml; do
    if grep -q '{{' "$f"; then sed -i '/{{.*}}/d' "$f"; fi
  done
  chmod -R u+w "$tmp"
  touch "$tmp/.complete"
  mv "$tmp" "$CACHE"
  log "collected $(ls "$CACHE/crds" | wc -l) CRD files into $CACHE"
}

cmd_env() {
  installed || { log "not installed (scripts/crds.sh install)"; exit "$NOT_INSTALLED"; }
  echo "CRDS=$CACHE/crds"
  echo "ARGOCD_MANIFESTS=$CACHE/argocd-manifests"
  echo "K3D_SCHEMA=$CACHE/k3d-schema.json"
  echo "ARGOCD_VERSION=$ARGOCD_VERSION"
}

case "${1:-}" in
  install) cmd_install ;;
  env) cmd_env ;;
  *) echo "usage: $0 install|env" >&2; exit 2 ;;
esac

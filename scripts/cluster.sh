#!/usr/bin/env bash
# The whole platform on a local k3d cluster, by GitOps (docs/deploy.md).
#
#   up        create the k3d cluster (deploy/k3d/cluster.yaml), provide the secrets, install
#             Argo CD and the ApplicationSet (deploy/argocd/bootstrap), and wait until every
#             Application is Synced and Healthy (SLUICE_CLUSTER_TIMEOUT seconds, default 1800)
#   down      delete the k3d cluster and everything in it
#   secrets   create the Secrets the apps expect, in the current kubectl context, with random
#             passwords; existing ones are kept, so it is safe to run again
#   status    list the Applications with their sync and health status
#
# up and down need Docker and k3d; secrets and status need only kubectl and a cluster.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CLUSTER=sluice
KUBECTL=${KUBECTL:-kubectl}
TIMEOUT=${SLUICE_CLUSTER_TIMEOUT:-1800}

log() { echo "cluster.sh: $*" >&2; }
die() { log "$*"; exit 1; }
need() { command -v "$1" >/dev/null 2>&1 || die "$1 is not on PATH: $2"; }

# A Secret's key, decoded, or nothing.
existing() {
  "$KUBECTL" -n "$1" get secret "$2" -o "jsonpath={.data.$3}" 2>/dev/null | base64 -d 2>/dev/null || true
}
random_password() { head -c 24 /dev/urandom | base64 | tr -d '/+=' | cut -c1-24; }
# A password shared by several Secrets: the one already in the first Secret, else a new one.
password_for() {
  local value
  value=$(existing "$1" "$2" "$3")
  [[ -n "$value" ]] && echo "$value" || random_password
}

# secret <namespace> <name> <type> key=value...
secret() {
  local ns=$1 name=$2 type=$3; shift 3
  local args=() kv
  for kv in "$@"; do args+=("--from-literal=$kv"); done
  "$KUBECTL" create namespace "$ns" --dry-run=client -o yaml | "$KUBECTL" apply -f - >/dev/null
  if "$KUBECTL" -n "$ns" get secret "$name" >/dev/null 2>&1; then
    log "secret $ns/$name exists, kept"
    return
  fi
  "$KUBECTL" -n "$ns" create secret generic "$name" --type="$type" "${args[@]}" >/dev/null
  log "secret $ns/$name created"
}

cmd_secrets() {
  need "$KUBECTL" "kubectl talks to the cluster"
  local pg bi ch chq chg minio grafana kcp kw kc
  pg=$(password_for postgresql postgresql-credentials password)
  bi=$(password_for postgresql metabase-db-credentials password)
  ch=$(password_for clickhouse clickhouse-credentials password)
  chq=$(password_for clickhouse clickhouse-query-credentials password)
  chg=$(password_for clickhouse clickhouse-grafana-credentials password)
  minio=$(password_for minio minio-credentials rootPassword)
  grafana=$(password_for monitoring grafana-admin admin-password)
  kcp=$(password_for kafka sluice-control-plane-password password)
  kw=$(password_for kafka sluice-worker-password password)
  kc=$(password_for kafka sluice-connector-password password)
  local basic=kubernetes.io/basic-auth
  # PostgreSQL (CloudNativePG's initdb and managed roles) and who connects to it.
  secret postgresql postgresql-credentials "$basic" username=sluice "password=$pg"
  secret sluice postgresql-credentials "$basic" username=sluice "password=$pg"
  secret postgresql metabase-db-credentials "$basic" username=metabase "password=$bi"
  secret metabase metabase-db-credentials "$basic" username=metabase "password=$bi"
  # ClickHouse's users (the Altinity installation reads `password`) and their clients.
  secret clickhouse clickhouse-credentials Opaque username=sluice "password=$ch"
  secret sluice clickhouse-credentials Opaque username=sluice "password=$ch"
  secret clickhouse clickhouse-query-credentials Opaque username=sluice_query "password=$chq"
  secret clickhouse clickhouse-grafana-credentials Opaque username=grafana "password=$chg"
  secret monitoring clickhouse-grafana-credentials Opaque username=grafana "password=$chg"
  # MinIO's root user, which Sluice's object store uses.
  secret minio minio-credentials Opaque rootUser=sluice "rootPassword=$minio"
  secret sluice s3-credentials Opaque accessKey=sluice "secretKey=$minio"
  secret monitoring grafana-admin Opaque admin-user=admin "admin-password=$grafana"
  # Kafka's users (the kafka app's KafkaUsers read `<user>-password`) and Sluice's copies.
  secret kafka sluice-control-plane-password Opaque "password=$kcp"
  secret kafka sluice-worker-password Opaque "password=$kw"
  secret kafka sluice-connector-password Opaque "password=$kc"
  secret sluice kafka-sluice-control-plane Opaque username=sluice-control-plane "password=$kcp"
  secret sluice kafka-sluice-worker Opaque username=sluice-worker "password=$kw"
}

cmd_status() {
  need "$KUBECTL" "kubectl talks to the cluster"
  "$KUBECTL" -n argocd get applications.argoproj.io \
    -o custom-columns='NAME:.metadata.name,SYNC:.status.sync.status,HEALTH:.status.health.status,NAMESPACE:.spec.destination.namespace'
}

# Every Application Synced and Healthy, and as many as the ApplicationSet's folders.
wait_healthy() {
  local deadline=$((SECONDS + TIMEOUT)) expected states
  expected=$(find "$ROOT/deploy/argocd/apps" -mindepth 1 -maxdepth 1 -type d | wc -l)
  while ((SECONDS < deadline)); do
    states=$("$KUBECTL" -n argocd get applications.argoproj.io -o jsonpath='{range .items[*]}{.status.sync.status}/{.status.health.status}{"\n"}{end}' 2>/dev/null || true)
    if [[ $(grep -c . <<<"$states") -ge "$expected" ]] && ! grep -qv '^Synced/Healthy$' <<<"$states"; then
      log "all $expected Applications are Synced and Healthy"
      return
    fi
    sleep 10
  done
  cmd_status >&2 || true
  die "not every Application is Synced and Healthy after ${TIMEOUT}s"
}

cmd_up() {
  need docker "k3d runs k3s in Docker containers"
  need k3d "install k3d v5.8 (k3d.io)"
  need "$KUBECTL" "kubectl talks to the cluster"
  if k3d cluster list "$CLUSTER" >/dev/null 2>&1; then
    log "k3d cluster $CLUSTER exists"
  else
    k3d cluster create --config "$ROOT/deploy/k3d/cluster.yaml"
  fi
  cmd_secrets
  # Server-side: the ApplicationSet CRD is too large for a client-side apply's annotation.
  "$KUBECTL" apply -k "$ROOT/deploy/argocd/bootstrap" --server-side --force-conflicts
  "$KUBECTL" -n argocd wait --for=condition=Available deployment --all --timeout=600s
  wait_healthy
  log "Sluice: http://localhost:8080 (kubectl -n sluice get ingress), Argo CD: kubectl -n argocd port-forward svc/argocd-server 8443:443"
}

cmd_down() {
  need k3d "install k3d v5.8 (k3d.io)"
  k3d cluster delete "$CLUSTER"
}

case "${1:-}" in
  up) cmd_up ;;
  down) cmd_down ;;
  secrets) cmd_secrets ;;
  status) cmd_status ;;
  *) echo "usage: $0 up|down|secrets|status" >&2; exit 2 ;;
esac

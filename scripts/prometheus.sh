#!/usr/bin/env bash
# Prometheus and Alertmanager from Debian's packages, for the tests of the generated alert
# rules (and their tools, promtool and amtool).
#
#   scripts/prometheus.sh install           apt-get install prometheus prometheus-alertmanager (if missing)
#   scripts/prometheus.sh promtool ARGS…    run promtool; exit 3 when it is not installed
#   scripts/prometheus.sh amtool ARGS…      run amtool (Alertmanager's); the same
#
# Exit code 3 means "not installed" (test/helpers/services.ts skips the test off CI and
# fails it on CI).
set -euo pipefail

NOT_INSTALLED=3
log() { echo "prometheus: $*" >&2; }

# shellcheck source=lib/apt-install.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/apt-install.sh"

install() {
  if command -v prometheus >/dev/null 2>&1 && command -v promtool >/dev/null 2>&1 && command -v prometheus-alertmanager >/dev/null 2>&1; then
    log "already installed: $(prometheus --version 2>&1 | head -1)"
    return 0
  fi
  apt_install_quietly prometheus prometheus-alertmanager
  log "installed: $(prometheus --version 2>&1 | head -1)"
}

case "${1:-}" in
  install) install ;;
  promtool | amtool)
    tool=$1
    shift
    command -v "$tool" >/dev/null 2>&1 || { log "$tool is not installed (run scripts/prometheus.sh install)"; exit "$NOT_INSTALLED"; }
    exec "$tool" "$@"
    ;;
  *)
    echo "usage: $0 install|promtool ARGS…|amtool ARGS…" >&2
    exit 2
    ;;
esac

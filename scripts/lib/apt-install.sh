# Shared by the scripts that install Debian packages whose daemons we start ourselves
# (pushgateway.sh, prometheus.sh): `apt_install_quietly PKG…` installs them without letting
# the packages start their own services. The caller defines log().

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

apt_install_quietly() {
  # Docker images ship a policy-rc.d that forbids starting services during installs; on
  # a real host add one for the duration, so a package's own daemon is not started behind
  # our back.
  local policy=/usr/sbin/policy-rc.d added_policy=0 status=0 pkg
  if [ ! -e "$policy" ]; then
    as_root sh -c "printf '#!/bin/sh\nexit 101\n' > $policy && chmod +x $policy"
    added_policy=1
  fi
  if ! apt-cache show "$@" >/dev/null 2>&1; then as_root apt-get update; fi
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "$@" || status=$?
  if [ "$added_policy" -eq 1 ]; then as_root rm -f "$policy"; fi
  [ "$status" -eq 0 ] || return "$status"
  # Where systemd runs, keep the packaged services off for good.
  if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
    for pkg in "$@"; do as_root systemctl disable --now "$pkg" >/dev/null 2>&1 || true; done
  fi
}

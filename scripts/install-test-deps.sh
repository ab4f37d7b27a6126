#!/usr/bin/env bash
# Installs what Faultline's tests and benchmarks need on a Debian 12 machine, as root.
# Idempotent: when every package is already present it skips apt entirely, and it skips
# `npm ci` when node_modules already satisfies package.json.
set -euo pipefail

# Debian packages the tests and benches use. Add to this list (one name per line) when a test
# needs a new tool; nothing else in this script needs to change.
PACKAGES=(
  nginx-light    # baseline reverse proxy and steady upstream in bench/
  haproxy        # baseline proxy (mode http and mode tcp) in bench/; its Lua is the latency reference
  wrk            # load generator for bench/
  prometheus     # scrapes the proxy's /metrics in tests
  iproute2       # ip netns, tc (tbf/htb) for network fault tests
  iptables       # blackhole / packet-loss faults inside test namespaces
  procps         # ps, pgrep, free
  docker.io      # a real Docker engine (dockerd) for container-fault tests
  busybox-static # root filesystem of the test image, built with `docker import`
  gcc            # `cc` builds bench/support's C load client and freeze watch (their tests run in the suite)
  libc6-dev      # headers and crt files for that build
  python3-venv   # a private venv for moto_server when the machine has none (below)
  ca-certificates
)

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo_root"

log() { printf 'install-test-deps: %s\n' "$*"; }

if [[ $(id -u) -ne 0 ]]; then
  log "must run as root (apt-get install); re-run with sudo" >&2
  exit 1
fi

missing=()
for pkg in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q '^install ok installed$'; then
    missing+=("$pkg")
  fi
done

if ((${#missing[@]} == 0)); then
  log "all ${#PACKAGES[@]} Debian packages already installed; skipping apt-get"
else
  log "installing: ${missing[*]}"
  # Debian's nginx, haproxy and prometheus packages start their system services on install.
  # Tests start their own instances on loopback ports, so forbid service starts (exit 101)
  # for the duration of the install, then put back whatever policy was there before.
  policy=/usr/sbin/policy-rc.d
  saved_policy=""
  if [[ -e $policy ]]; then
    saved_policy="$(mktemp)"
    cp -p "$policy" "$saved_policy"
  fi
  restore_policy() {
    if [[ -n $saved_policy ]]; then
      mv -f "$saved_policy" "$policy"
    else
      rm -f "$policy"
    fi
  }
  trap restore_policy EXIT
  printf '#!/bin/sh\nexit 101\n' >"$policy"
  chmod 755 "$policy"

  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  apt-get install -y -q --no-install-recommends "${missing[@]}"
  restore_policy
  trap - EXIT
  log "installed: ${missing[*]}"
fi

# The container-fault tests need a running engine; it is started here, not by the tests, so a
# machine without one fails loudly at this step rather than in the middle of the suite.
bash scripts/start-dockerd.sh

# The AWS drill tests need moto 5.x's server. These machines have it preinstalled; elsewhere it
# goes into a private venv (Debian 12's system Python refuses `pip install`, PEP 668) and is
# linked onto PATH. Where PyPI is not reachable this step fails and says so.
moto_venv=/opt/faultline/moto
if ! command -v moto_server >/dev/null 2>&1; then
  log "moto_server is not on PATH; installing 'moto[server]>=5,<6' into $moto_venv"
  if python3 -m venv "$moto_venv" && "$moto_venv/bin/pip" install -q 'moto[server]>=5,<6'; then
    ln -sf "$moto_venv/bin/moto_server" /usr/local/bin/moto_server
  else
    log "ERROR: could not install moto_server (is PyPI reachable?)." >&2
    log "Install it by hand with: pip install 'moto[server]'  and re-run." >&2
    exit 1
  fi
fi
log "moto_server: $(command -v moto_server)"

# `npm ci` is not used: npm 11 rejects this lock file ("Missing: @biomejs/cli-* from lock file")
# because it records only this platform's optional binaries. `npm install` honours the lock all
# the same; `npm ls` tells whether anything is missing, so a warm checkout skips it.
if [[ -d node_modules ]] && npm ls --depth=0 >/dev/null 2>&1; then
  log "node_modules matches package.json; skipping npm install"
else
  log "running npm install"
  npm install --no-audit --no-fund
fi

log "done (node $(npx --no-install node --version 2>/dev/null || echo '?'), nproc $(nproc))"
